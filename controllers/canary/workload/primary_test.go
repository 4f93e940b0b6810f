package workload

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

func TestEnsurePrimary_CreatesOwnedCopyWithRewrittenSelector(t *testing.T) {
	f := newFixture(t, nil, nil)
	p := f.ensurePrimary()
	if !p.Created || p.Name != "app-primary" || p.Replicas != 3 {
		t.Errorf("EnsurePrimary = %+v, want app-primary created with the target's 3 replicas", p)
	}
	primary := f.deployment("app-primary")
	f.controlledByCanary(primary)
	if got := primary.Spec.Selector.MatchLabels; !maps.Equal(got, map[string]string{"app": "app-primary"}) {
		t.Errorf("primary selector %v, want app=app-primary", got)
	}
	if got := primary.Spec.Template.Labels; !maps.Equal(got, map[string]string{"app": "app-primary", "team": "payments"}) {
		t.Errorf("primary pod labels %v, want app=app-primary and the other labels kept", got)
	}
	if got := primary.Labels["app"]; got != "app-primary" {
		t.Errorf("primary Deployment label app=%q, want app-primary", got)
	}
	if img := primary.Spec.Template.Spec.Containers[0].Image; img != "example.com/app:1" {
		t.Errorf("primary runs %s, want the target's image", img)
	}
	if target := f.deployment("app"); !maps.Equal(target.Spec.Template.Labels, targetLabels) {
		t.Errorf("the target's pod labels changed to %v", target.Spec.Template.Labels)
	}
	if again := f.ensurePrimary(); again.Created {
		t.Error("a second EnsurePrimary says it created the primary")
	}
}

func TestEnsurePrimary_UsesTheFirstSelectorLabelFound(t *testing.T) {
	f := newFixture(t, func(d *appsv1.Deployment) {
		labels := map[string]string{"app.kubernetes.io/name": "shop", "tier": "web"}
		d.Spec.Selector.MatchLabels = labels
		d.Spec.Template.Labels = labels
	}, nil)
	f.ensurePrimary()
	primary := f.deployment("app-primary")
	want := map[string]string{"app.kubernetes.io/name": "shop-primary", "tier": "web"}
	if got := primary.Spec.Selector.MatchLabels; !maps.Equal(got, want) {
		t.Errorf("primary selector %v, want %v", got, want)
	}
	if got := primary.Spec.Template.Labels; !maps.Equal(got, want) {
		t.Errorf("primary pod labels %v, want %v", got, want)
	}
}

func TestEnsurePrimary_SelectorLabelMissing(t *testing.T) {
	f := newFixture(t, func(d *appsv1.Deployment) {
		d.Spec.Selector.MatchLabels = map[string]string{"tier": "web"}
		d.Spec.Template.Labels = map[string]string{"tier": "web"}
	}, nil)
	_, err := f.w.EnsurePrimary(context.Background(), f.canary)
	if !errors.Is(err, ErrSelectorLabelMissing) {
		t.Fatalf("EnsurePrimary: %v, want ErrSelectorLabelMissing", err)
	}
	for _, key := range DefaultSelectorLabels {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not name the label %q it looked for", err, key)
		}
	}
	if err := env.Client.Get(context.Background(), objectKey(f.ns, "app-primary"), &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Errorf("a primary exists after the failure (get: %v)", err)
	}
}

func TestEnsurePrimary_TargetNotFound(t *testing.T) {
	f := newFixture(t, nil, func(c *meshv1alpha1.Canary) { c.Spec.TargetRef.Name = "missing" })
	_, err := f.w.EnsurePrimary(context.Background(), f.canary)
	if !errors.Is(err, ErrTargetNotFound) {
		t.Fatalf("EnsurePrimary: %v, want ErrTargetNotFound", err)
	}
	for name, call := range map[string]func() error{
		"Revision":    func() error { _, err := f.w.Revision(context.Background(), f.canary); return err },
		"Promote":     func() error { return f.w.Promote(context.Background(), f.canary) },
		"ScaleTarget": func() error { return f.w.ScaleTarget(context.Background(), f.canary, 1) },
		"TargetReady": func() error { _, _, err := f.w.TargetReady(context.Background(), f.canary); return err },
	} {
		if err := call(); !errors.Is(err, ErrTargetNotFound) {
			t.Errorf("%s: %v, want ErrTargetNotFound", name, err)
		}
	}
}

func TestEnsurePrimary_CopiesConfigsAndPointsThePrimaryAtThem(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.ensurePrimary()

	envCopy := &corev1.ConfigMap{}
	f.get("app-env-primary", envCopy)
	if envCopy.Data["MODE"] != "fast" {
		t.Errorf("app-env-primary data %v, want the original's", envCopy.Data)
	}
	f.controlledByCanary(envCopy)
	filesCopy := &corev1.ConfigMap{}
	f.get("app-files-primary", filesCopy)
	f.controlledByCanary(filesCopy)
	for _, name := range []string{"app-secret-primary", "app-tls-primary"} {
		s := &corev1.Secret{}
		f.get(name, s)
		f.controlledByCanary(s)
	}
	secretCopy := &corev1.Secret{}
	f.get("app-secret-primary", secretCopy)
	if string(secretCopy.Data["password"]) != "hunter2" {
		t.Error("app-secret-primary does not hold the original's data")
	}

	spec := f.deployment("app-primary").Spec.Template.Spec
	ctr := spec.Containers[0]
	if got := ctr.Env[0].ValueFrom.SecretKeyRef.Name; got != "app-secret-primary" {
		t.Errorf("env valueFrom Secret %q, want app-secret-primary", got)
	}
	if got := ctr.EnvFrom[0].ConfigMapRef.Name; got != "app-env-primary" {
		t.Errorf("envFrom ConfigMap %q, want app-env-primary", got)
	}
	if got := ctr.EnvFrom[1].ConfigMapRef.Name; got != "app-optional" {
		t.Errorf("the missing optional ConfigMap is referenced as %q, want its own name kept", got)
	}
	if got := spec.Volumes[0].ConfigMap.Name; got != "app-files-primary" {
		t.Errorf("volume ConfigMap %q, want app-files-primary", got)
	}
	if got := spec.Volumes[1].Projected.Sources[0].Secret.Name; got != "app-tls-primary" {
		t.Errorf("projected Secret %q, want app-tls-primary", got)
	}
	if err := env.Client.Get(context.Background(), objectKey(f.ns, "app-optional-primary"), &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Errorf("a copy of the missing optional ConfigMap exists (get: %v)", err)
	}
	// The target keeps its own references.
	if got := f.deployment("app").Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name; got != "app-env" {
		t.Errorf("the target's envFrom now names %q", got)
	}
}

func TestEnsurePrimary_MissingRequiredConfigIsAnError(t *testing.T) {
	f := newFixture(t, func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Volumes[0].ConfigMap.Name = "nowhere"
	}, nil)
	_, err := f.w.EnsurePrimary(context.Background(), f.canary)
	if err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("EnsurePrimary: %v, want an error naming the missing ConfigMap", err)
	}
}

func TestEnsurePrimary_TemplateAndConfigsChangeOnlyByPromote(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.ensurePrimary()
	target := &appsv1.Deployment{}
	f.update("app", target, func() {
		target.Spec.Template.Spec.Containers[0].Image = "example.com/app:2"
		target.Spec.MinReadySeconds = 7
	})
	cm := &corev1.ConfigMap{}
	f.update("app-env", cm, func() { cm.Data["MODE"] = "careful" })

	f.ensurePrimary()
	primary := f.deployment("app-primary")
	if img := primary.Spec.Template.Spec.Containers[0].Image; img != "example.com/app:1" {
		t.Fatalf("EnsurePrimary changed the primary's image to %s before promotion", img)
	}
	envCopy := &corev1.ConfigMap{}
	f.get("app-env-primary", envCopy)
	if envCopy.Data["MODE"] != "fast" {
		t.Fatalf("EnsurePrimary changed app-env-primary to %v before promotion", envCopy.Data)
	}

	if err := f.w.Promote(context.Background(), f.canary); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	primary = f.deployment("app-primary")
	if img := primary.Spec.Template.Spec.Containers[0].Image; img != "example.com/app:2" {
		t.Errorf("after Promote the primary runs %s, want example.com/app:2", img)
	}
	if primary.Spec.MinReadySeconds != 7 {
		t.Errorf("after Promote minReadySeconds is %d, want the target's 7", primary.Spec.MinReadySeconds)
	}
	if got := primary.Spec.Template.Labels["app"]; got != "app-primary" {
		t.Errorf("after Promote the primary's pods are labelled app=%s, want app-primary", got)
	}
	if got := primary.Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name; got != "app-env-primary" {
		t.Errorf("after Promote envFrom names %q, want app-env-primary", got)
	}
	f.get("app-env-primary", envCopy)
	if envCopy.Data["MODE"] != "careful" {
		t.Errorf("after Promote app-env-primary holds %v, want the new content", envCopy.Data)
	}
	// And the promoted template sticks.
	f.ensurePrimary()
	if img := f.deployment("app-primary").Spec.Template.Spec.Containers[0].Image; img != "example.com/app:2" {
		t.Errorf("EnsurePrimary after Promote brought back %s", img)
	}
}

func TestEnsurePrimary_KeepsReplicasSomeoneElseSet(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.ensurePrimary()
	primary := &appsv1.Deployment{}
	f.update("app-primary", primary, func() { primary.Spec.Replicas = ptr.To[int32](5) })
	if p := f.ensurePrimary(); p.Replicas != 5 {
		t.Errorf("EnsurePrimary reset the primary's replicas to %d, want 5 (kubectl scale)", p.Replicas)
	}
	if err := f.w.Promote(context.Background(), f.canary); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	if got := ptr.Deref(f.deployment("app-primary").Spec.Replicas, 0); got != 5 {
		t.Errorf("Promote set the primary's replicas to %d, want 5", got)
	}
}

func TestEnsurePrimary_RefusesAPrimaryOwnedByAnother(t *testing.T) {
	f := newFixture(t, nil, nil)
	other := newTarget(f.ns)
	other.Name = "app-primary"
	other.Spec.Selector.MatchLabels = map[string]string{"app": "other"}
	other.Spec.Template.Labels = map[string]string{"app": "other"}
	other.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "someone", UID: "0000", Controller: ptr.To(true)}}
	f.create(other)
	if _, err := f.w.EnsurePrimary(context.Background(), f.canary); !errors.Is(err, ErrNotOurs) {
		t.Fatalf("EnsurePrimary: %v, want ErrNotOurs", err)
	}
}

// Another manager's field on the primary's pod template (here the Mesh's
// restart mark of a proxy upgrade) survives our re-applies and promotions.
func TestEnsurePrimary_KeepsTemplateFieldsOfOtherManagers(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.ensurePrimary()
	primary := f.deployment("app-primary")
	patch := client.MergeFrom(primary.DeepCopy())
	primary.Spec.Template.Annotations = map[string]string{"sluice.dev/restarted-at": "2026-11-22T05:00:00Z"}
	if err := env.Client.Patch(context.Background(), primary, patch, client.FieldOwner("sluice-mesh")); err != nil {
		t.Fatalf("annotate the primary's template: %v", err)
	}
	f.ensurePrimary()
	target := &appsv1.Deployment{}
	f.update("app", target, func() { target.Spec.Template.Spec.Containers[0].Image = "example.com/app:2" })
	if err := f.w.Promote(context.Background(), f.canary); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	primary = f.deployment("app-primary")
	if got := primary.Spec.Template.Annotations["sluice.dev/restarted-at"]; got == "" {
		t.Error("the other manager's template annotation is gone")
	}
	if img := primary.Spec.Template.Spec.Containers[0].Image; img != "example.com/app:2" {
		t.Errorf("primary runs %s after Promote", img)
	}
}

// Env vars from a ConfigMap are read when a pod starts: a promotion that
// changed only a ConfigMap must still roll the primary's pods.
func TestPromote_ConfigOnlyChangeRollsThePrimary(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.ensurePrimary()
	before := f.deployment("app-primary")
	if err := f.w.Promote(context.Background(), f.canary); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	if same := f.deployment("app-primary"); same.Generation != before.Generation {
		t.Errorf("promoting an unchanged revision changed the primary (generation %d -> %d)", before.Generation, same.Generation)
	}
	cm := &corev1.ConfigMap{}
	f.update("app-env", cm, func() { cm.Data["MODE"] = "careful" })
	if err := f.w.Promote(context.Background(), f.canary); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	after := f.deployment("app-primary")
	if after.Spec.Template.Annotations[ConfigChecksumAnnotation] == before.Spec.Template.Annotations[ConfigChecksumAnnotation] {
		t.Error("a config-only promotion left the primary's pod template unchanged: its pods would keep the old env")
	}
}

// A user's own object that happens to have a copy's name is never
// overwritten.
func TestEnsurePrimary_NeverOverwritesAUsersObject(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.create(&corev1.ConfigMap{ObjectMeta: f.meta("app-env-primary"), Data: map[string]string{"MODE": "mine"}})
	_, err := f.w.EnsurePrimary(context.Background(), f.canary)
	if !errors.Is(err, ErrNotOurs) || !strings.Contains(err.Error(), "app-env-primary") {
		t.Fatalf("EnsurePrimary: %v, want ErrNotOurs naming app-env-primary", err)
	}
	cm := &corev1.ConfigMap{}
	f.get("app-env-primary", cm)
	if cm.Data["MODE"] != "mine" {
		t.Errorf("the user's ConfigMap now holds %v", cm.Data)
	}
}
