package policy

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func createService(t *testing.T, ns, name string) {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}, Selector: map[string]string{"app": name}},
	}
	if err := env.Client.Create(context.Background(), svc); err != nil {
		t.Fatalf("create Service %s: %v", name, err)
	}
}

func createPolicy(t *testing.T, ns, name, service string) *meshv1alpha1.Policy {
	t.Helper()
	p := &meshv1alpha1.Policy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: meshv1alpha1.PolicySpec{
			TargetRef: meshv1alpha1.PolicyTargetReference{Name: service},
			Timeout:   &metav1.Duration{Duration: 5 * time.Second},
		},
	}
	if err := env.Client.Create(context.Background(), p); err != nil {
		t.Fatalf("create Policy %s: %v", name, err)
	}
	return p
}

// accepted returns a function for Eventually that yields the Policy's Accepted
// reason once status has caught up with its generation.
func accepted(ns, name string) func() string {
	return func() string {
		var p meshv1alpha1.Policy
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &p); err != nil {
			return "get: " + err.Error()
		}
		c := meta.FindStatusCondition(p.Status.Conditions, meshv1alpha1.ConditionAccepted)
		if c == nil || p.Status.ObservedGeneration != p.Generation {
			return "not reconciled"
		}
		return c.Reason
	}
}

func eventReasons(ns, name string) func() []string {
	return func() []string {
		var list eventsv1.EventList
		if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return []string{"list: " + err.Error()}
		}
		var reasons []string
		for _, e := range list.Items {
			if e.Regarding.Kind == "Policy" && e.Regarding.Name == name {
				reasons = append(reasons, e.Type+"/"+e.Reason)
			}
		}
		return reasons
	}
}

func TestPolicy_AcceptedWhenItAloneTargetsAService(t *testing.T) {
	requireEnv(t)
	g := NewWithT(t)
	ns := env.NewNamespace(t)
	createService(t, ns, "cart")
	createPolicy(t, ns, "cart-resilience", "cart")

	g.Eventually(accepted(ns, "cart-resilience"), 10*time.Second).Should(Equal("Accepted"))
	var p meshv1alpha1.Policy
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "cart-resilience"}, &p)).To(Succeed())
	g.Expect(meta.IsStatusConditionTrue(p.Status.Conditions, meshv1alpha1.ConditionReady)).To(BeTrue())
	g.Expect(meta.IsStatusConditionTrue(p.Status.Conditions, meshv1alpha1.ConditionStalled)).To(BeFalse())
	g.Eventually(eventReasons(ns, "cart-resilience"), 10*time.Second).Should(ContainElement("Normal/Accepted"))
}

func TestPolicy_SecondPolicyOnAServiceIsConflictedUntilTheFirstIsDeleted(t *testing.T) {
	requireEnv(t)
	g := NewWithT(t)
	ns := env.NewNamespace(t)
	createService(t, ns, "cart")
	first := createPolicy(t, ns, "first", "cart")
	g.Eventually(accepted(ns, "first"), 10*time.Second).Should(Equal("Accepted"))
	// creationTimestamp has a resolution of one second: make "second" newer.
	time.Sleep(1100 * time.Millisecond)
	createPolicy(t, ns, "second", "cart")

	g.Eventually(accepted(ns, "second"), 10*time.Second).Should(Equal(meshv1alpha1.ReasonConflicted))
	g.Consistently(accepted(ns, "first"), 2*time.Second).Should(Equal("Accepted"), "the oldest Policy keeps the Service")
	g.Eventually(eventReasons(ns, "second"), 10*time.Second).Should(ContainElement("Warning/Conflicted"))

	g.Expect(env.Client.Delete(context.Background(), first)).To(Succeed())
	g.Eventually(accepted(ns, "second"), 10*time.Second).Should(Equal("Accepted"), "the next oldest takes over the Service")
}

func TestPolicy_TargetNotFoundUntilTheServiceExists(t *testing.T) {
	requireEnv(t)
	g := NewWithT(t)
	ns := env.NewNamespace(t)
	createPolicy(t, ns, "early", "payments")

	g.Eventually(accepted(ns, "early"), 10*time.Second).Should(Equal(meshv1alpha1.ReasonTargetNotFound))
	var p meshv1alpha1.Policy
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "early"}, &p)).To(Succeed())
	g.Expect(meta.IsStatusConditionTrue(p.Status.Conditions, meshv1alpha1.ConditionStalled)).To(BeTrue())

	createService(t, ns, "payments")
	g.Eventually(accepted(ns, "early"), 10*time.Second).Should(Equal("Accepted"))
}
