package workload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	corev1 "k8s.io/api/core/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// sluiceAnnotationPrefix marks annotations that Sluice itself puts on pod
// templates (proxy upgrades, actions): they never make a new revision.
const sluiceAnnotationPrefix = "sluice.dev/"

// Revision identifies what the target would run.
type Revision struct {
	// Spec is the hash of the target's pod template, for
	// status.lastAppliedSpec and status.lastPromotedSpec.
	//
	// Annotations under sluice.dev/ are ignored, so that Sluice's own marks
	// (such as a proxy upgrade's restart) do not start a run. The
	// kubectl.kubernetes.io/restartedAt annotation of `kubectl rollout
	// restart` is NOT ignored: restarting the target is a deliberate change
	// of its pods, so it runs as a canary and, once promoted, restarts the
	// primary's pods too, which is what the user asked for.
	Spec string
	// Configs are the checksums of the ConfigMaps and Secrets the target's
	// pod template references, keyed `ConfigMap/<name>` or `Secret/<name>`,
	// for status.trackedConfigs. Optional references to missing objects are
	// left out.
	Configs map[string]string
}

// Revision reads the target and the configs it references. A required
// ConfigMap or Secret that does not exist is an error.
func (w *Workloads) Revision(ctx context.Context, c *meshv1alpha1.Canary) (Revision, error) {
	target, err := w.target(ctx, c)
	if err != nil {
		return Revision{}, err
	}
	configs, err := w.trackedConfigs(ctx, c.Namespace, &target.Spec.Template.Spec)
	if err != nil {
		return Revision{}, err
	}
	return Revision{Spec: templateHash(&target.Spec.Template), Configs: checksums(configs)}, nil
}

// templateHash hashes the template's JSON (map keys are sorted, so it is
// stable) without sluice.dev/ annotations.
func templateHash(t *corev1.PodTemplateSpec) string {
	t = t.DeepCopy()
	for k := range t.Annotations {
		if strings.HasPrefix(k, sluiceAnnotationPrefix) {
			delete(t.Annotations, k)
		}
	}
	if len(t.Annotations) == 0 {
		t.Annotations = nil // no annotations left hashes like none at all
	}
	raw, err := json.Marshal(t)
	if err != nil {
		// A PodTemplateSpec always encodes; keep the signature simple.
		panic("encode pod template: " + err.Error())
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])[:16]
}
