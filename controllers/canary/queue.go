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

// reserve takes a slot for self when fewer than limit other Canaries hold
// one, counting both the cache's view (cached) and this manager's own writes.
// Check and take are one step under the lock, so that two Canaries
// reconciled at once cannot both take the last slot.
func (q *slots) reserve(self types.NamespacedName, cached []types.NamespacedName, limit int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.held == nil {
		q.held = map[types.NamespacedName]bool{}
	}
	holders := make(map[types.NamespacedName]bool, len(q.held)+len(cached))
	for k := range q.held {
		holders[k] = true
	}
	for _, k := range cached {
		holders[k] = true
	}
	delete(holders, self)
	if len(holders) >= limit {
		return false
	}
	q.held[self] = true
	return true
}

// queuedWake asks the controller to look at a Queued Canary again.
type queuedWake = event.TypedGenericEvent[client.Object]

// reserveSlot says whether c may start a run under --max-concurrent-canaries
// and, if so, takes its slot: the Canaries holding a slot (by the cache, or
// by this manager's own writes the cache has not shown yet), not counting c,
// are fewer than the limit. The slot is given back by finishStatus when the
// pass ends in a phase that holds none.
func (r *Reconciler) reserveSlot(ctx context.Context, c *meshv1alpha1.Canary) (bool, error) {
	limit := r.Options.MaxConcurrentCanaries
	if limit <= 0 {
		return true, nil
	}
	var list meshv1alpha1.CanaryList
	if err := r.Client.List(ctx, &list); err != nil {
		return false, err
	}
	var cached []types.NamespacedName
	for _, other := range list.Items {
		if holdsSlot(other.Status.Phase) {
			cached = append(cached, types.NamespacedName{Namespace: other.Namespace, Name: other.Name})
		}
	}
	return r.slots.reserve(types.NamespacedName{Namespace: c.Namespace, Name: c.Name}, cached, limit), nil
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
