// Package hooks calls a Canary's webhooks: the gates (confirm-*), the checks
// (pre-rollout, rollout), the rollback question, post-rollout, and the event
// notifications, including the Mesh's default event webhook. It only talks
// HTTP; what an answer means for the rollout is the state machine's call.
package hooks

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// Payload is what every webhook receives, in Flagger's shape so that tools
// written for Flagger (its load tester, notification bridges) work unchanged:
//
//	{"name": "app", "namespace": "shop", "phase": "Progressing",
//	 "checksum": "3f1c...", "metadata": {"cmd": "hey -z 1m http://app-canary"}}
//
// metadata is the webhook's own spec.analysis.webhooks[].metadata; event
// notifications add eventMessage, eventType and timestamp to it.
type Payload struct {
	Name      string                   `json:"name"`
	Namespace string                   `json:"namespace"`
	Phase     meshv1alpha1.CanaryPhase `json:"phase"`
	// Checksum identifies the revision under test (see Checksum), so a
	// receiver can tell runs apart and approve one revision, not any.
	Checksum string            `json:"checksum"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// NewPayload is the payload for c as its status stands: its current phase
// and the checksum of the revision it is about.
func NewPayload(c *meshv1alpha1.Canary) Payload {
	return Payload{
		Name:      c.Name,
		Namespace: c.Namespace,
		Phase:     c.Status.Phase,
		Checksum:  Checksum(c.Status.LastAppliedSpec, c.Status.TrackedConfigs),
	}
}

// Checksum combines the pod template hash and the tracked configs'
// checksums (status.lastAppliedSpec and status.trackedConfigs) into one
// revision identifier; it changes when either does.
func Checksum(specHash string, trackedConfigs map[string]string) string {
	h := sha256.New()
	h.Write([]byte(specHash))
	keys := make([]string, 0, len(trackedConfigs))
	for k := range trackedConfigs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h.Write([]byte("\x00" + k + "=" + trackedConfigs[k]))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Event is one transition of a Canary, as event webhooks receive it.
type Event struct {
	// Type is the Kubernetes Event type: Normal or Warning.
	Type string
	// Message says what happened, e.g. "Advance app.shop canary weight 20".
	Message string
	// Time of the transition; sent as milliseconds since the epoch.
	Time time.Time
}

// Metadata keys an event notification adds to the payload, as Flagger names
// them.
const (
	MetadataEventMessage = "eventMessage"
	MetadataEventType    = "eventType"
	MetadataTimestamp    = "timestamp"
)

// withMetadata returns p with the hook's metadata (and extra, which wins)
// merged into a fresh map, so callers may reuse p.
func (p Payload) withMetadata(hook, extra map[string]string) Payload {
	if len(hook)+len(extra) == 0 {
		return p
	}
	merged := make(map[string]string, len(p.Metadata)+len(hook)+len(extra))
	for _, m := range []map[string]string{p.Metadata, hook, extra} {
		for k, v := range m {
			merged[k] = v
		}
	}
	p.Metadata = merged
	return p
}

// ByType returns the hooks of type t, in spec order.
func ByType(hooks []meshv1alpha1.CanaryWebhook, t meshv1alpha1.WebhookType) []meshv1alpha1.CanaryWebhook {
	var out []meshv1alpha1.CanaryWebhook
	for _, h := range hooks {
		if hookType(h) == t {
			out = append(out, h)
		}
	}
	return out
}

// hookType is the hook's type, with the API's default (rollout) for an
// object that did not go through defaulting (e.g. built in a test).
func hookType(h meshv1alpha1.CanaryWebhook) meshv1alpha1.WebhookType {
	if h.Type == "" {
		return meshv1alpha1.WebhookRollout
	}
	return h.Type
}

// MeshEventHookName names the Mesh's default event webhook in errors.
const MeshEventHookName = "mesh-default-event"

// EventHooks are the hooks that receive c's transitions: its own `event`
// webhooks and, when set, the Mesh default's spec.eventWebhook (mesh may be
// nil).
func EventHooks(c *meshv1alpha1.Canary, mesh *meshv1alpha1.Mesh) []meshv1alpha1.CanaryWebhook {
	hooks := ByType(c.Spec.Analysis.Webhooks, meshv1alpha1.WebhookEvent)
	if mesh != nil && mesh.Spec.EventWebhook != nil && strings.TrimSpace(mesh.Spec.EventWebhook.URL) != "" {
		hooks = append(hooks, meshv1alpha1.CanaryWebhook{
			Name:    MeshEventHookName,
			Type:    meshv1alpha1.WebhookEvent,
			URL:     mesh.Spec.EventWebhook.URL,
			Timeout: mesh.Spec.EventWebhook.Timeout,
		})
	}
	return hooks
}
