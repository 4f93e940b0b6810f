package hooks

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func TestByType_KeepsSpecOrderAndDefaultsToRollout(t *testing.T) {
	hooks := []meshv1alpha1.CanaryWebhook{
		{Name: "load", URL: "http://127.0.0.1:1/"}, // no type: rollout
		{Name: "gate", Type: meshv1alpha1.WebhookConfirmPromotion, URL: "http://127.0.0.1:2/"},
		{Name: "smoke", Type: meshv1alpha1.WebhookRollout, URL: "http://127.0.0.1:3/"},
	}
	if got := names(ByType(hooks, meshv1alpha1.WebhookRollout)); !slices.Equal(got, []string{"load", "smoke"}) {
		t.Errorf("rollout hooks %v, want [load smoke]", got)
	}
	if got := names(ByType(hooks, meshv1alpha1.WebhookRollback)); len(got) != 0 {
		t.Errorf("rollback hooks %v, want none", got)
	}
}

func TestEventHooks_IncludeTheMeshDefault(t *testing.T) {
	c := &meshv1alpha1.Canary{Spec: meshv1alpha1.CanarySpec{Analysis: meshv1alpha1.CanaryAnalysis{Webhooks: []meshv1alpha1.CanaryWebhook{
		{Name: "own", Type: meshv1alpha1.WebhookEvent, URL: "http://127.0.0.1:1/"},
		{Name: "gate", Type: meshv1alpha1.WebhookConfirmRollout, URL: "http://127.0.0.1:2/"},
	}}}}
	if got := names(EventHooks(c, nil)); !slices.Equal(got, []string{"own"}) {
		t.Errorf("without a Mesh: %v, want [own]", got)
	}
	mesh := &meshv1alpha1.Mesh{Spec: meshv1alpha1.MeshSpec{EventWebhook: &meshv1alpha1.EventWebhook{
		URL: "http://127.0.0.1:3/", Timeout: &metav1.Duration{Duration: 3e9},
	}}}
	got := EventHooks(c, mesh)
	if !slices.Equal(names(got), []string{"own", MeshEventHookName}) {
		t.Fatalf("with the Mesh's eventWebhook: %v", names(got))
	}
	if got[1].URL != "http://127.0.0.1:3/" || got[1].Timeout.Duration != 3e9 {
		t.Errorf("Mesh hook %+v does not carry the Mesh's URL and timeout", got[1])
	}
}

func TestChecksum_ChangesWithSpecOrConfigs(t *testing.T) {
	base := Checksum("spec1", map[string]string{"ConfigMap/a": "1", "Secret/b": "2"})
	if again := Checksum("spec1", map[string]string{"Secret/b": "2", "ConfigMap/a": "1"}); again != base {
		t.Errorf("same revision gave %s and %s", base, again)
	}
	for name, other := range map[string]string{
		"spec":   Checksum("spec2", map[string]string{"ConfigMap/a": "1", "Secret/b": "2"}),
		"config": Checksum("spec1", map[string]string{"ConfigMap/a": "9", "Secret/b": "2"}),
		"added":  Checksum("spec1", map[string]string{"ConfigMap/a": "1", "Secret/b": "2", "Secret/c": "3"}),
	} {
		if other == base {
			t.Errorf("a changed %s kept checksum %s", name, base)
		}
	}
}

func TestNewPayload_FromStatus(t *testing.T) {
	c := &meshv1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "shop"},
		Status: meshv1alpha1.CanaryStatus{
			Phase: meshv1alpha1.CanaryPhaseWaitingPromotion, LastAppliedSpec: "h1",
			TrackedConfigs: map[string]string{"ConfigMap/app-config": "c1"},
		},
	}
	p := NewPayload(c)
	want := Payload{Name: "app", Namespace: "shop", Phase: meshv1alpha1.CanaryPhaseWaitingPromotion,
		Checksum: Checksum("h1", c.Status.TrackedConfigs)}
	if p.Name != want.Name || p.Namespace != want.Namespace || p.Phase != want.Phase || p.Checksum != want.Checksum {
		t.Errorf("NewPayload = %+v, want %+v", p, want)
	}
}

func names(hooks []meshv1alpha1.CanaryWebhook) []string {
	var out []string
	for _, h := range hooks {
		out = append(out, h.Name)
	}
	return out
}
