package canary

import (
	"fmt"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func TestCanary_QueueLimitsConcurrentRuns(t *testing.T) {
	s := newScene(t, seriesStart(), Options{MaxConcurrentCanaries: 1, Workers: 4})
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

// With several workers, Canaries are admitted at the same moment: the last
// slot must still go to exactly one of them.
func TestSlots_ReserveGivesTheLastSlotToOneCanaryOnly(t *testing.T) {
	var q slots
	running := []types.NamespacedName{{Namespace: "shop", Name: "cart"}}
	const contenders = 16
	won := make(chan types.NamespacedName, contenders)
	var wg sync.WaitGroup
	for i := range contenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			self := types.NamespacedName{Namespace: "shop", Name: fmt.Sprintf("app-%d", i)}
			if q.reserve(self, running, 2) {
				won <- self
			}
		}()
	}
	wg.Wait()
	close(won)
	var winners []types.NamespacedName
	for w := range won {
		winners = append(winners, w)
	}
	if len(winners) != 1 {
		t.Fatalf("%d Canaries took the one free slot of 2 (cart holds the other): %v", len(winners), winners)
	}
	if !q.reserve(winners[0], running, 2) {
		t.Errorf("the winner %v must still fit when it asks again", winners[0])
	}
	q.release(winners[0])
	if !q.reserve(types.NamespacedName{Namespace: "shop", Name: "late"}, running, 2) {
		t.Error("a released slot must be free again")
	}
}
