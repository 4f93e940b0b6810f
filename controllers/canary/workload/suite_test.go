package workload

import (
	"context"
	"os"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/test/kubeapi"
)

// env is the envtest API server. It runs no controller-manager: tests
// write Deployment status themselves to play the Deployment controller.
var env *kubeapi.Env

func TestMain(m *testing.M) {
	os.Exit(kubeapi.Main(m, kubeapi.Options{}, func(e *kubeapi.Env) (func(), error) {
		env = e
		return nil, nil
	}))
}

// fixture is one test's namespace with a target Deployment `app` and a
// Canary for it.
type fixture struct {
	t      *testing.T
	ns     string
	canary *meshv1alpha1.Canary
	w      *Workloads
}

// targetLabels are the pod labels of the default target.
var targetLabels = map[string]string{"app": "app", "team": "payments"}

// newTarget is a Deployment `app` with 3 replicas whose pod template
// references configs every way a pod can: env valueFrom, envFrom, a volume,
// a projected volume, and an optional ConfigMap that does not exist.
func newTarget(ns string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns, Labels: map[string]string{"app": "app", "owner": "shop"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: targetLabels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: "app", Image: "example.com/app:1",
						Env: []corev1.EnvVar{{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{
							SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "app-secret"}, Key: "password"},
						}}},
						EnvFrom: []corev1.EnvFromSource{
							{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app-env"}}},
							{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app-optional"}, Optional: ptr.To(true)}},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "files", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: "app-files"},
						}}},
						{Name: "tls", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
							{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "app-tls"}}},
						}}}},
					},
				},
			},
		},
	}
}

// newFixture creates the configs, the target (after mutate) and the Canary
// (after mutateCanary) in a fresh namespace.
func newFixture(t *testing.T, mutate func(*appsv1.Deployment), mutateCanary func(*meshv1alpha1.Canary)) *fixture {
	t.Helper()
	if env == nil {
		t.Skip(kubeapi.SkipReason())
	}
	f := &fixture{t: t, ns: env.NewNamespace(t)}
	f.create(&corev1.ConfigMap{ObjectMeta: f.meta("app-env"), Data: map[string]string{"MODE": "fast"}})
	f.create(&corev1.ConfigMap{ObjectMeta: f.meta("app-files"), Data: map[string]string{"app.yaml": "level: info"}})
	f.create(&corev1.Secret{ObjectMeta: f.meta("app-secret"), Data: map[string][]byte{"password": []byte("hunter2")}})
	f.create(&corev1.Secret{ObjectMeta: f.meta("app-tls"), Data: map[string][]byte{"tls.crt": []byte("cert")}})
	target := newTarget(f.ns)
	if mutate != nil {
		mutate(target)
	}
	f.create(target)
	f.canary = &meshv1alpha1.Canary{
		ObjectMeta: f.meta("app"),
		Spec: meshv1alpha1.CanarySpec{
			TargetRef: meshv1alpha1.TargetReference{Name: "app"},
			Service:   meshv1alpha1.CanaryService{Port: 80},
			Analysis:  meshv1alpha1.CanaryAnalysis{StepWeight: ptr.To[int32](10)},
		},
	}
	if mutateCanary != nil {
		mutateCanary(f.canary)
	}
	f.create(f.canary)
	f.w = New(env.Client, Options{})
	return f
}

func (f *fixture) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: f.ns}
}

func (f *fixture) create(obj client.Object) {
	f.t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		f.t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

// get reads obj's current state by name.
func (f *fixture) get(name string, obj client.Object) {
	f.t.Helper()
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: f.ns, Name: name}, obj); err != nil {
		f.t.Fatalf("get %T %s: %v", obj, name, err)
	}
}

func (f *fixture) deployment(name string) *appsv1.Deployment {
	f.t.Helper()
	d := &appsv1.Deployment{}
	f.get(name, d)
	return d
}

// update changes a Deployment (or anything) the way a user would.
func (f *fixture) update(name string, obj client.Object, change func()) {
	f.t.Helper()
	f.get(name, obj)
	change()
	if err := env.Client.Update(context.Background(), obj); err != nil {
		f.t.Fatalf("update %T %s: %v", obj, name, err)
	}
}

// rollout plays the Deployment controller: the rollout of the current
// generation is observed and complete with `available` replicas available.
func (f *fixture) rollout(name string, available int32) {
	f.t.Helper()
	d := f.deployment(name)
	replicas := ptr.Deref(d.Spec.Replicas, 1)
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           replicas,
		UpdatedReplicas:    replicas,
		ReadyReplicas:      available,
		AvailableReplicas:  available,
	}
	if err := env.Client.Status().Update(context.Background(), d); err != nil {
		f.t.Fatalf("write status of Deployment %s: %v", name, err)
	}
}

func (f *fixture) ensurePrimary() Primary {
	f.t.Helper()
	p, err := f.w.EnsurePrimary(context.Background(), f.canary)
	if err != nil {
		f.t.Fatalf("EnsurePrimary: %v", err)
	}
	return p
}

func (f *fixture) revision() Revision {
	f.t.Helper()
	r, err := f.w.Revision(context.Background(), f.canary)
	if err != nil {
		f.t.Fatalf("Revision: %v", err)
	}
	return r
}

// controlledByCanary fails the test unless obj's controller is the Canary.
func (f *fixture) controlledByCanary(obj client.Object) {
	f.t.Helper()
	if !metav1.IsControlledBy(obj, f.canary) {
		f.t.Errorf("%T %s is not controlled by the Canary: owners %+v", obj, obj.GetName(), obj.GetOwnerReferences())
	}
}

func objectKey(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}
