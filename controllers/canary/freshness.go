package canary

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// A pass acts on what the Canary's status says (weights, schedule, the
// action annotation): a copy older than this manager's own last write would
// step or act twice. The cache usually holds our last write by the time its
// watch event brings the next pass, so reading the API server on every
// pass (the safe way) mostly decodes what the cache already has, hundreds of
// times a second at scale. versions makes the cache safe to read instead: it
// remembers, per Canary, a resourceVersion known to include our last write,
// and the cache is trusted only when it holds exactly that version.
// Anything else (a newer change by someone else, a stale cache, a Canary not
// seen yet since the start) is read from the API server.
type versions struct {
	mu    sync.Mutex
	known map[types.NamespacedName]string
}

func (v *versions) get(k types.NamespacedName) (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	rv, ok := v.known[k]
	return rv, ok
}

func (v *versions) set(k types.NamespacedName, rv string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.known == nil {
		v.known = map[types.NamespacedName]string{}
	}
	v.known[k] = rv
}

func (v *versions) forget(k types.NamespacedName) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.known, k)
}

// readCanary reads the Canary key into c from the cache when it holds the
// version we know, else from the API server.
func (r *Reconciler) readCanary(ctx context.Context, key types.NamespacedName, c *meshv1alpha1.Canary) error {
	if want, ok := r.versions.get(key); ok {
		if err := r.Client.Get(ctx, key, c); err == nil && c.ResourceVersion == want {
			return nil
		}
	}
	if err := r.APIReader.Get(ctx, key, c); err != nil {
		return err
	}
	r.versions.set(key, c.ResourceVersion)
	return nil
}

// wroteCanary records the version a pass ended with: its own last write, or
// what it read when it wrote nothing.
func (r *Reconciler) wroteCanary(c client.Object) {
	r.versions.set(types.NamespacedName{Namespace: c.GetNamespace(), Name: c.GetName()}, c.GetResourceVersion())
}
