package canary

import (
	"testing"

	. "github.com/onsi/gomega"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func TestCanary_QueueLimitsConcurrentRuns(t *testing.T) {
	s := newScene(t, seriesStart(), Options{MaxConcurrentCanaries: 1})
	s.bootstrap(nil)
	s.createNamedTarget("web", 1, "example.com/web:1")
	s.createNamedCanary("web", nil)
	webPhase := func() meshv1alpha1.CanaryPhase { return s.named("web").Status.Phase }
	s.g.Eventually(webPhase).Should(Equal(meshv1alpha1.CanaryPhaseInitialized))

	s.startRun("example.com/app:2", 10)
	s.setNamedImage("web", "example.com/web:2")
	s.g.Eventually(webPhase).Should(Equal(meshv1alpha1.CanaryPhaseQueued))
	s.g.Expect(s.replicas("web")()).To(BeZero(), "a queued canary does not start")

	s.annotate(ActionAnnotation, ActionAbort)
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseFailed))
	s.g.Eventually(webPhase).Should(Equal(meshv1alpha1.CanaryPhaseProgressing), "a freed slot starts the queued run")
}
