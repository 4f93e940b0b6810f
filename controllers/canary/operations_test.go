package canary

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func (s *scene) apexSelector() map[string]string {
	var svc corev1.Service
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "app"}, &svc); err != nil {
		return nil
	}
	return svc.Spec.Selector
}

func (s *scene) exists(obj client.Object, name string) func() bool {
	return func() bool {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, obj)
		return !apierrors.IsNotFound(err)
	}
}

func TestCanary_DeletionKeepsTheAppServed(t *testing.T) {
	for _, revert := range []bool{false, true} {
		t.Run(map[bool]string{false: "objects left", true: "revertOnDeletion"}[revert], func(t *testing.T) {
			s := newScene(t, seriesStart(), Options{})
			s.bootstrap(func(spec *meshv1alpha1.CanarySpec) { spec.RevertOnDeletion = revert })
			g := s.g
			g.Eventually(s.replicas("app")).Should(Equal(int32(0)))
			g.Expect(s.apexSelector()).To(Equal(map[string]string{"app": "app-primary"}))

			s.deployments.hold("app", true)
			g.Expect(env.Client.Delete(context.Background(), s.canary())).To(Succeed())
			g.Eventually(s.replicas("app")).Should(Equal(int32(2)), "the target is scaled back to the primary's replicas")
			g.Consistently(s.exists(&meshv1alpha1.Canary{}, "app"), time.Second).Should(BeTrue(), "kept until the target is ready")
			g.Expect(s.apexSelector()).To(Equal(map[string]string{"app": "app-primary"}), "the primary serves until then")

			s.deployments.hold("app", false)
			g.Eventually(s.exists(&meshv1alpha1.Canary{}, "app")).Should(BeFalse())
			g.Expect(s.apexSelector()).To(Equal(map[string]string{"app": "app"}), "the apex points at the target")
			g.Expect(s.exists(&corev1.Service{}, "app")()).To(BeTrue(), "the apex Service is never deleted")
			g.Expect(s.exists(&corev1.Service{}, "app-primary")()).To(Equal(!revert))
			g.Expect(s.exists(&appsv1.Deployment{}, "app-primary")()).To(Equal(!revert))
		})
	}
}

func TestCanary_RestartedManagerResumesAtTheSameWeight(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(nil)
	s.startRun("example.com/app:2", 10)
	s.tick(time.Minute)
	s.g.Eventually(s.weight).Should(Equal(int32(20)))

	s.restartManager()
	s.annotate("test.sluice.dev/restarted", "yes")
	s.g.Consistently(s.state, time.Second).Should(Equal("Progressing/20"))
	s.g.Expect(s.routes()).To(Equal("primary=80 canary=20 mirror=false match=false"))
	s.tick(30 * time.Second)
	s.g.Consistently(s.weight, time.Second).Should(Equal(int32(20)), "the schedule comes from status: not due yet")
	s.tick(30 * time.Second)
	s.g.Eventually(s.weight).Should(Equal(int32(30)))
}

func TestCanary_RevertToThePrimarysRevisionDoesNotStartARun(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(nil)
	s.startRun("example.com/app:2", 10)
	s.annotate(ActionAnnotation, ActionAbort)
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseFailed))

	s.setImage("example.com/app:1")
	s.g.Consistently(s.phase, 2*time.Second).Should(Equal(meshv1alpha1.CanaryPhaseFailed))
	s.g.Expect(s.replicas("app")()).To(BeZero())

	s.startRun("example.com/app:3", 10)
	s.g.Consistently(s.weight, time.Second).Should(Equal(int32(10)), "no check before an interval passed")
}

func TestCanary_NewRevisionDuringARunRestartsFromWeightZero(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(nil)
	s.startRun("example.com/app:2", 10)
	s.tick(time.Minute)
	s.g.Eventually(s.weight).Should(Equal(int32(20)))
	first := s.canary().Status.LastAppliedSpec

	s.setImage("example.com/app:3")
	s.g.Eventually(func() string { return s.canary().Status.LastAppliedSpec }).ShouldNot(Equal(first))
	s.g.Eventually(s.state).Should(Equal("Progressing/10"))
	s.g.Eventually(s.hasEvent("Normal/NewRevision", "restarting")).Should(BeTrue())
	for _, w := range []int32{20, 30, 40, 50} {
		s.tick(time.Minute)
		s.g.Eventually(s.weight).Should(Equal(w))
	}
	s.tick(time.Minute)
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseSucceeded))
	s.g.Expect(s.image("app-primary")).To(Equal("example.com/app:3"))
}

func TestCanary_Actions(t *testing.T) {
	t.Run("abort rolls back now", func(t *testing.T) {
		s := newScene(t, seriesStart(), Options{})
		s.bootstrap(nil)
		s.startRun("example.com/app:2", 10)
		s.annotate(ActionAnnotation, ActionAbort)
		s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseFailed))
		s.g.Expect(s.condition(meshv1alpha1.ConditionPromoted)).To(Equal("False/Aborted"))
		s.g.Expect(s.canary().Annotations).NotTo(HaveKey(ActionAnnotation))
		s.g.Eventually(s.hasEvent("Warning/Aborted")).Should(BeTrue())
	})
	t.Run("retry runs a failed revision again", func(t *testing.T) {
		s := newScene(t, seriesStart(), Options{})
		s.bootstrap(nil)
		s.startRun("example.com/app:2", 10)
		s.annotate(ActionAnnotation, ActionAbort)
		s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseFailed))
		s.annotate(ActionAnnotation, ActionRetry)
		s.g.Eventually(s.state).Should(Equal("Progressing/10"))
		s.g.Expect(s.canary().Annotations).NotTo(HaveKey(ActionAnnotation))
	})
	t.Run("pause holds, resume goes on", func(t *testing.T) {
		s := newScene(t, seriesStart(), Options{})
		s.bootstrap(nil)
		s.startRun("example.com/app:2", 10)
		s.annotate(ActionAnnotation, ActionPause)
		s.g.Eventually(func() string { return s.condition(meshv1alpha1.ConditionReconciling) }).Should(Equal("False/Paused"))
		s.tick(2 * time.Minute)
		s.g.Consistently(s.weight, time.Second).Should(Equal(int32(10)))
		s.annotate(ActionAnnotation, ActionResume)
		s.g.Eventually(s.weight).Should(Equal(int32(20)))
		s.g.Expect(s.canary().Annotations).NotTo(HaveKey(PausedAnnotation))
	})
	t.Run("promote opens a closed gate", func(t *testing.T) {
		gate := newGate(t, http.StatusForbidden)
		s := newScene(t, seriesStart(), Options{})
		s.bootstrap(withWebhook("approve", meshv1alpha1.WebhookConfirmPromotion, gate.URL, nil))
		s.startRun("example.com/app:2", 10)
		for _, w := range []int32{20, 30, 40, 50} {
			s.tick(time.Minute)
			s.g.Eventually(s.weight).Should(Equal(w))
		}
		s.tick(time.Minute)
		s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseWaitingPromotion))
		s.annotate(ActionAnnotation, ActionPromote)
		s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseSucceeded))
	})
}

// gate is a webhook server answering a status code the test can change.
type gate struct {
	URL    string
	status atomic.Int32
	calls  atomic.Int32
}

func newGate(t *testing.T, status int) *gate {
	g := &gate{}
	g.status.Store(int32(status))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		g.calls.Add(1)
		w.WriteHeader(int(g.status.Load()))
	}))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

func withWebhook(name string, typ meshv1alpha1.WebhookType, url string, gateTimeout *time.Duration) func(*meshv1alpha1.CanarySpec) {
	return func(spec *meshv1alpha1.CanarySpec) {
		h := meshv1alpha1.CanaryWebhook{Name: name, Type: typ, URL: url, Timeout: &metav1.Duration{Duration: 2 * time.Second}}
		if gateTimeout != nil {
			h.GateTimeout = &metav1.Duration{Duration: *gateTimeout}
		}
		spec.Analysis.Webhooks = append(spec.Analysis.Webhooks, h)
	}
}

func TestCanary_Gates(t *testing.T) {
	t.Run("confirm-rollout waits, then starts", func(t *testing.T) {
		g := newGate(t, http.StatusForbidden)
		s := newScene(t, seriesStart(), Options{})
		s.bootstrap(withWebhook("start", meshv1alpha1.WebhookConfirmRollout, g.URL, nil))
		s.setImage("example.com/app:2")
		s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseWaiting))
		s.g.Expect(s.replicas("app")()).To(BeZero(), "nothing starts behind a closed gate")
		g.status.Store(http.StatusOK)
		s.tick(time.Second)
		s.g.Eventually(s.state).Should(Equal("Progressing/10"))
	})
	t.Run("confirm-traffic-increase holds the weight", func(t *testing.T) {
		g := newGate(t, http.StatusOK)
		s := newScene(t, seriesStart(), Options{})
		s.bootstrap(withWebhook("more", meshv1alpha1.WebhookConfirmTrafficIncrease, g.URL, nil))
		s.startRun("example.com/app:2", 10)
		g.status.Store(http.StatusForbidden)
		s.tick(time.Minute)
		s.g.Eventually(s.hasEvent("Normal/Waiting", "Holding weight 10")).Should(BeTrue())
		s.g.Expect(s.weight()).To(Equal(int32(10)))
		g.status.Store(http.StatusOK)
		s.tick(time.Minute)
		s.g.Eventually(s.weight).Should(Equal(int32(20)))
	})
	t.Run("confirm-promotion gate timeout rolls back", func(t *testing.T) {
		g := newGate(t, http.StatusForbidden)
		s := newScene(t, seriesStart(), Options{})
		s.bootstrap(withWebhook("approve", meshv1alpha1.WebhookConfirmPromotion, g.URL, ptr.To(5*time.Minute)))
		s.startRun("example.com/app:2", 10)
		for _, w := range []int32{20, 30, 40, 50} {
			s.tick(time.Minute)
			s.g.Eventually(s.weight).Should(Equal(w))
		}
		s.tick(time.Minute)
		s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseWaitingPromotion))
		s.tick(4 * time.Minute)
		s.g.Consistently(s.phase, time.Second).Should(Equal(meshv1alpha1.CanaryPhaseWaitingPromotion))
		s.tick(time.Minute)
		s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseFailed))
		s.g.Expect(s.condition(meshv1alpha1.ConditionPromoted)).To(Equal("False/GateTimeout"))
		s.g.Expect(s.image("app-primary")).To(Equal("example.com/app:1"))
	})
	t.Run("a failing rollout hook counts as a failed check", func(t *testing.T) {
		g := newGate(t, http.StatusOK)
		s := newScene(t, seriesStart(), Options{})
		s.bootstrap(withWebhook("load", meshv1alpha1.WebhookRollout, g.URL, nil))
		s.startRun("example.com/app:2", 10)
		g.status.Store(http.StatusInternalServerError)
		s.tick(time.Minute)
		s.g.Eventually(s.failedChecks).Should(Equal(int32(1)))
		s.tick(time.Minute)
		s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseFailed))
	})
	t.Run("a rollback hook answering yes rolls back", func(t *testing.T) {
		g := newGate(t, http.StatusOK)
		s := newScene(t, seriesStart(), Options{})
		s.bootstrap(withWebhook("stop", meshv1alpha1.WebhookRollback, g.URL, nil))
		s.startRun("example.com/app:2", 10)
		s.tick(time.Minute)
		s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseFailed))
	})
}

func TestCanary_ABTestingRoutesMatchingRequestsForIterations(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(func(spec *meshv1alpha1.CanarySpec) {
		spec.Analysis.StepWeight, spec.Analysis.MaxWeight = nil, nil
		spec.Analysis.Iterations = ptr.To[int32](2)
		spec.Analysis.Match = []meshv1alpha1.CanaryMatch{{Headers: []gatewayv1.HTTPHeaderMatch{{Name: "X-Canary", Value: "insider"}}}}
	})
	s.setImage("example.com/app:2")
	s.g.Eventually(s.routes).Should(Equal("primary=100 canary=0 mirror=false match=true"))
	s.tick(time.Minute)
	s.g.Eventually(func() int32 { return s.canary().Status.Iterations }).Should(Equal(int32(1)))
	s.g.Expect(s.phase()).To(Equal(meshv1alpha1.CanaryPhaseProgressing))
	s.tick(time.Minute)
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseSucceeded))
	s.g.Expect(s.routes()).To(Equal("primary=100 canary=0 mirror=false match=false"))
}

func TestCanary_BlueGreenOnTheKubernetesProvider(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(func(spec *meshv1alpha1.CanarySpec) {
		spec.Provider = meshv1alpha1.ProviderKubernetes
		spec.Analysis.StepWeight, spec.Analysis.MaxWeight = nil, nil
		spec.Analysis.Iterations = ptr.To[int32](2)
	})
	s.setImage("example.com/app:2")
	s.g.Eventually(s.replicas("app")).Should(Equal(int32(2)))
	s.g.Eventually(func() bool { return s.canary().Status.LastAnalysisTime != nil }).Should(BeTrue())
	s.g.Expect(s.apexSelector()).To(Equal(map[string]string{"app": "app-primary"}), "no user traffic on the canary during the run")
	s.tick(time.Minute)
	s.g.Eventually(func() int32 { return s.canary().Status.Iterations }).Should(Equal(int32(1)))
	s.tick(time.Minute)
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseSucceeded))
	s.g.Expect(s.image("app-primary")).To(Equal("example.com/app:2"))
	s.g.Expect(s.apexSelector()).To(Equal(map[string]string{"app": "app-primary"}))
}

func TestCanary_SkipAnalysisPromotesOnceReady(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(func(spec *meshv1alpha1.CanarySpec) { spec.SkipAnalysis = true })
	s.setImage("example.com/app:2")
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseSucceeded))
	s.g.Expect(s.image("app-primary")).To(Equal("example.com/app:2"))
}

func TestCanary_SuspendStopsAllWork(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(nil)
	c := s.canary()
	before := c.DeepCopy()
	c.Spec.Suspend = true
	s.g.Expect(env.Client.Patch(context.Background(), c, client.MergeFrom(before))).To(Succeed())
	s.g.Eventually(func() string { return s.condition(meshv1alpha1.ConditionReconciling) }).Should(Equal("False/Suspended"))
	s.setImage("example.com/app:2")
	s.g.Consistently(s.phase, time.Second).Should(Equal(meshv1alpha1.CanaryPhaseInitialized))
}

func TestCanary_EventWebhooksReceiveTransitions(t *testing.T) {
	g := newGate(t, http.StatusInternalServerError) // a failing receiver changes nothing
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(withWebhook("notify", meshv1alpha1.WebhookEvent, g.URL, nil))
	s.g.Eventually(g.calls.Load).Should(BeNumerically(">=", 1), "Initialized is notified")
	before := g.calls.Load()
	s.startRun("example.com/app:2", 10)
	s.g.Eventually(g.calls.Load).Should(BeNumerically(">=", before+3), "new revision, start, first weight")
}

func TestCanary_BlueGreenWithMirroring(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(func(spec *meshv1alpha1.CanarySpec) {
		spec.Analysis.StepWeight, spec.Analysis.MaxWeight = nil, nil
		spec.Analysis.Iterations = ptr.To[int32](1)
		spec.Analysis.Mirror = true
	})
	s.setImage("example.com/app:2")
	s.g.Eventually(s.routes).Should(Equal("primary=100 canary=0 mirror=true match=false"), "copies of the requests reach the canary")
	s.tick(time.Minute)
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseSucceeded))
	s.g.Expect(s.routes()).To(Equal("primary=100 canary=0 mirror=false match=false"))
}

func TestCanary_RevertDuringARunEndsItWithoutPromotion(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(nil)
	s.startRun("example.com/app:2", 10)
	s.setImage("example.com/app:1")
	s.g.Eventually(s.state).Should(Equal("Initialized/0"))
	s.g.Expect(s.routes()).To(Equal("primary=100 canary=0 mirror=false match=false"))
	s.g.Eventually(s.replicas("app")).Should(BeZero())
	s.g.Eventually(s.hasEvent("Normal/Reverted")).Should(BeTrue())
}

// A promoted primary that does not get ready keeps the run in Promoting,
// with the canary still serving, and says so past the progress deadline.
func TestCanary_PromotedPrimaryNotReadyWaitsAndSaysSo(t *testing.T) {
	s := newScene(t, seriesStart(), Options{})
	s.bootstrap(func(spec *meshv1alpha1.CanarySpec) { spec.SkipAnalysis = true; spec.ProgressDeadlineSeconds = 60 })
	s.deployments.hold("app-primary", true)
	s.setImage("example.com/app:2")
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhasePromoting))
	s.g.Consistently(s.phase, time.Second).Should(Equal(meshv1alpha1.CanaryPhasePromoting))
	s.g.Expect(s.replicas("app")()).To(Equal(int32(2)), "the canary keeps serving while the primary rolls out")

	s.tick(61 * time.Second)
	s.g.Eventually(func() string { return s.condition(meshv1alpha1.ConditionReady) }).Should(Equal("False/ProgressDeadlineExceeded"))
	s.g.Eventually(s.hasEvent("Warning/ProgressDeadlineExceeded", "app-primary")).Should(BeTrue())
	s.g.Expect(s.phase()).To(Equal(meshv1alpha1.CanaryPhasePromoting))

	s.deployments.hold("app-primary", false)
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseSucceeded))
	s.g.Eventually(s.replicas("app")).Should(BeZero())
}
