package canary

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// slots remembers which Canaries hold a run slot according to this manager's
// own last writes, which the cache may not show yet.
type slots struct {
	mu   sync.Mutex
	held map[types.NamespacedName]bool
}

func (q *slots) take(k types.NamespacedName) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.held == nil {
		q.held = map[types.NamespacedName]bool{}
	}
	q.held[k] = true
}

func (q *slots) release(k types.NamespacedName) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.held, k)
}

func (q *slots) snapshot() map[types.NamespacedName]bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make(map[types.NamespacedName]bool, len(q.held))
	for k := range q.held {
		out[k] = true
	}
	return out
}

// queuedWake asks the controller to look at a Queued Canary again.
type queuedWake = event.TypedGenericEvent[client.Object]

// slotFree says whether c may start a run under --max-concurrent-canaries:
// the Canaries holding a slot (by the cache, or by this manager's own writes
// the cache has not shown yet), not counting c, are fewer than the limit.
func (r *Reconciler) slotFree(ctx context.Context, c *meshv1alpha1.Canary) (bool, error) {
	limit := r.Options.MaxConcurrentCanaries
	if limit <= 0 {
		return true, nil
	}
	var list meshv1alpha1.CanaryList
	if err := r.Client.List(ctx, &list); err != nil {
		return false, err
	}
	self := types.NamespacedName{Namespace: c.Namespace, Name: c.Name}
	holders := r.slots.snapshot()
	for _, other := range list.Items {
		if holdsSlot(other.Status.Phase) {
			holders[types.NamespacedName{Namespace: other.Namespace, Name: other.Name}] = true
		}
	}
	delete(holders, self)
	return len(holders) < limit, nil
}

// wakeQueued hands every Queued Canary to the controller when a slot frees,
// so a queued run starts at once instead of at its next poll.
func (r *Reconciler) wakeQueued(ctx context.Context, _ string) {
	if r.Options.MaxConcurrentCanaries <= 0 {
		return
	}
	var list meshv1alpha1.CanaryList
	if err := r.Client.List(ctx, &list); err != nil {
		return
	}
	for i := range list.Items {
		if list.Items[i].Status.Phase != meshv1alpha1.CanaryPhaseQueued {
			continue
		}
		select {
		case r.wake <- queuedWake{Object: &list.Items[i]}:
		default: // full: the Queued Canary's own poll picks it up
		}
	}
}
