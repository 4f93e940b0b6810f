package workload

import (
	"context"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Deployments are read on every pass of every Canary (target and primary
// readiness, the target's revision). The manager caches them anyway (it
// watches them for readiness), but a cached copy read right after our own
// write could predate it: a target just scaled up would still show zero
// replicas and look ready. generations makes the cache safe to read: it
// remembers, per Deployment, a generation known to include our last spec
// write, and trusts a cached copy whose generation has reached it. Its
// status may lag the API server's by an event, never our own change: a
// generation the Deployment controller has not observed yet is not ready
// (see deploymentReady). A Deployment not seen since the start, or behind
// the generation we know, is read from the API server.
type generations struct {
	mu    sync.Mutex
	known map[types.NamespacedName]int64
}

func (g *generations) get(k types.NamespacedName) (int64, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gen, ok := g.known[k]
	return gen, ok
}

func (g *generations) set(k types.NamespacedName, gen int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.known == nil {
		g.known = map[types.NamespacedName]int64{}
	}
	g.known[k] = gen
}

func (g *generations) forget(k types.NamespacedName) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.known, k)
}

// getDeployment reads the Deployment key into d: from the cache when it has
// caught up with our last write, else from the API server.
func (w *Workloads) getDeployment(ctx context.Context, key types.NamespacedName, d *appsv1.Deployment) error {
	if w.cache != nil {
		if want, ok := w.generations.get(key); ok {
			if err := w.cache.Get(ctx, key, d); err == nil && d.Generation >= want {
				return nil
			}
		}
	}
	if err := w.reader.Get(ctx, key, d); err != nil {
		return err
	}
	w.generations.set(key, d.Generation)
	return nil
}

// wroteDeployment records the generation of a Deployment as our write
// returned it; 0 (unknown) makes the next read go to the API server.
func (w *Workloads) wroteDeployment(key types.NamespacedName, generation int64) {
	if generation == 0 {
		w.generations.forget(key)
		return
	}
	w.generations.set(key, generation)
}
