package workload

import (
	"maps"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestRevision_TracksTemplateAndConfigs(t *testing.T) {
	f := newFixture(t, nil, nil)
	base := f.revision()
	wantKeys := []string{"ConfigMap/app-env", "ConfigMap/app-files", "Secret/app-secret", "Secret/app-tls"}
	if len(base.Configs) != len(wantKeys) {
		t.Errorf("tracked configs %v, want exactly %v (the missing optional one left out)", base.Configs, wantKeys)
	}
	for _, k := range wantKeys {
		if base.Configs[k] == "" {
			t.Errorf("tracked configs %v lack %s", base.Configs, k)
		}
	}
	if again := f.revision(); again.Spec != base.Spec || !maps.Equal(again.Configs, base.Configs) {
		t.Fatalf("Revision is not stable: %+v then %+v", base, again)
	}

	// A sluice.dev/ annotation is ours, not a new revision.
	target := &appsv1.Deployment{}
	f.update("app", target, func() {
		target.Spec.Template.Annotations = map[string]string{"sluice.dev/x": "1"}
	})
	if r := f.revision(); r.Spec != base.Spec {
		t.Errorf("annotation sluice.dev/x changed the revision %s -> %s", base.Spec, r.Spec)
	}

	// kubectl rollout restart is a deliberate new revision.
	f.update("app", target, func() {
		target.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] = "2026-11-22T05:00:00Z"
	})
	restarted := f.revision()
	if restarted.Spec == base.Spec {
		t.Error("kubectl rollout restart did not change the revision")
	}

	// A ConfigMap change shows in its checksum only.
	cm := &corev1.ConfigMap{}
	f.update("app-env", cm, func() { cm.Data["MODE"] = "careful" })
	changed := f.revision()
	if changed.Spec != restarted.Spec {
		t.Errorf("a ConfigMap change changed the template hash")
	}
	if changed.Configs["ConfigMap/app-env"] == base.Configs["ConfigMap/app-env"] {
		t.Error("a ConfigMap change kept its checksum")
	}
	if changed.Configs["Secret/app-secret"] != base.Configs["Secret/app-secret"] {
		t.Error("an unchanged Secret changed its checksum")
	}

	// So does a Secret change.
	s := &corev1.Secret{}
	f.update("app-tls", s, func() { s.Data["tls.crt"] = []byte("renewed") })
	if r := f.revision(); r.Configs["Secret/app-tls"] == changed.Configs["Secret/app-tls"] {
		t.Error("a Secret change kept its checksum")
	}
}

func TestRevision_ImageChangeIsANewRevision(t *testing.T) {
	f := newFixture(t, nil, nil)
	base := f.revision()
	target := &appsv1.Deployment{}
	f.update("app", target, func() { target.Spec.Template.Spec.Containers[0].Image = "example.com/app:2" })
	if r := f.revision(); r.Spec == base.Spec {
		t.Error("an image change kept the revision")
	}
	// Reverting gives the old hash back, so the state machine can tell a
	// revert to the promoted spec from a new change.
	f.update("app", target, func() { target.Spec.Template.Spec.Containers[0].Image = "example.com/app:1" })
	if r := f.revision(); r.Spec != base.Spec {
		t.Errorf("reverting the image gave %s, want the original %s", r.Spec, base.Spec)
	}
}
