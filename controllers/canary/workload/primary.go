package workload

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// Primary is the state of a Canary's primary workload.
type Primary struct {
	// Name of the primary, `<target>-primary`.
	Name string
	// Created is true when this call created the primary.
	Created bool
	// Ready: the rollout is complete (observedGeneration and updated
	// replicas caught up) and spec.analysis.primaryReadyThreshold percent of
	// the replicas are available. A primary scaled to zero is ready.
	Ready bool
	// NotReady says why not, when Ready is false.
	NotReady string
	// Replicas is the desired replica count (spec.replicas), e.g. what the
	// target is scaled back to on deletion.
	Replicas int32
	// AvailableReplicas is the primary's available replica count.
	AvailableReplicas int32
}

// EnsurePrimary creates or updates the primary: a copy of the target whose
// selector and pod labels have the selector label rewritten to
// `<value>-primary`, controlled by the Canary.
//
// On creation the primary gets the target's pod template, with its
// ConfigMap and Secret references pointed at copies (`<name>-primary`) made
// now. Afterwards its pod template and the copies change only by Promote:
// EnsurePrimary re-applies the template it applied last, read back from the
// primary's managed fields. Replicas: the target's on creation (at least
// 1), then the primary's own, so `kubectl scale` on the primary sticks; with
// spec.autoscalerRef they are never written, the primary's autoscaler
// (`<hpa>-primary`, made here from the target's) owns them.
//
// Errors: ErrTargetNotFound, ErrSelectorLabelMissing, ErrNotOurs,
// ErrAutoscalerNotFound (all for errors.Is), or an API error.
func (w *Workloads) EnsurePrimary(ctx context.Context, c *meshv1alpha1.Canary) (Primary, error) {
	target, err := w.target(ctx, c)
	if err != nil {
		return Primary{}, err
	}
	sel, err := w.selectorOf(c, target)
	if err != nil {
		return Primary{}, err
	}
	existing, err := w.readPrimary(ctx, c)
	if err != nil {
		return Primary{}, err
	}
	var desired *appsv1.Deployment
	if existing == nil {
		configs, err := w.trackedConfigs(ctx, c.Namespace, &target.Spec.Template.Spec)
		if err != nil {
			return Primary{}, err
		}
		if err := w.copyConfigs(ctx, c, configs); err != nil {
			return Primary{}, err
		}
		desired = buildPrimary(c, target, sel, primaryTemplate(target.Spec.Template, sel, configs), &target.Spec, nil)
	} else {
		template := appliedTemplate(existing)
		if err := w.adoptConfigCopies(ctx, c, &template.Spec); err != nil {
			return Primary{}, err
		}
		desired = buildPrimary(c, target, sel, template, &existing.Spec, existing)
	}
	applied := &appsv1.Deployment{}
	if err := apply(ctx, w.client, desired, applied); err != nil {
		return Primary{}, err
	}
	w.wroteDeployment(client.ObjectKeyFromObject(applied), applied.Generation)
	if c.Spec.AutoscalerRef != nil {
		if err := w.ensureAutoscaler(ctx, c); err != nil {
			return Primary{}, err
		}
	}
	p := primaryStatus(c, applied)
	p.Created = existing == nil
	return p, nil
}

// PrimaryStatus reads the primary without changing anything. A missing
// primary is an error for which apierrors.IsNotFound is true.
func (w *Workloads) PrimaryStatus(ctx context.Context, c *meshv1alpha1.Canary) (Primary, error) {
	d := &appsv1.Deployment{}
	key := types.NamespacedName{Namespace: c.Namespace, Name: PrimaryName(c)}
	if err := w.getDeployment(ctx, key, d); err != nil {
		return Primary{}, fmt.Errorf("read primary Deployment %s: %w", key, err)
	}
	return primaryStatus(c, d), nil
}

func primaryStatus(c *meshv1alpha1.Canary, d *appsv1.Deployment) Primary {
	ready, why := deploymentReady(d, c.Spec.Analysis.PrimaryReadyThreshold)
	return Primary{
		Name:              d.Name,
		Ready:             ready,
		NotReady:          why,
		Replicas:          ptr.Deref(d.Spec.Replicas, 1),
		AvailableReplicas: d.Status.AvailableReplicas,
	}
}

// readPrimary reads the primary, nil when it does not exist, and refuses one
// that another owner controls.
func (w *Workloads) readPrimary(ctx context.Context, c *meshv1alpha1.Canary) (*appsv1.Deployment, error) {
	d := &appsv1.Deployment{}
	key := types.NamespacedName{Namespace: c.Namespace, Name: PrimaryName(c)}
	if err := w.getDeployment(ctx, key, d); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read primary Deployment %s: %w", key, err)
	}
	if err := checkOwner(d, c); err != nil {
		return nil, fmt.Errorf("primary: %w", err)
	}
	return d, nil
}

// buildPrimary is the whole of what we apply to the primary. settings is
// where the Deployment-level fields (strategy, minReadySeconds, ...) come
// from: the target on creation and promotion, the primary itself otherwise.
// existing is the current primary, nil on creation.
func buildPrimary(c *meshv1alpha1.Canary, target *appsv1.Deployment, sel selectorLabel, template corev1.PodTemplateSpec,
	settings *appsv1.DeploymentSpec, existing *appsv1.Deployment) *appsv1.Deployment {
	annotations := copiedAnnotations(target.Annotations)
	delete(annotations, "deployment.kubernetes.io/revision") // the target's rollout count, not ours
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: ourMeta(c, PrimaryName(c), rewriteLabel(target.Labels, sel, false), annotations),
		Spec: appsv1.DeploymentSpec{
			Replicas:                primaryReplicas(c, target, existing),
			Selector:                primarySelector(target.Spec.Selector, sel),
			Template:                template,
			Strategy:                settings.Strategy,
			MinReadySeconds:         settings.MinReadySeconds,
			RevisionHistoryLimit:    settings.RevisionHistoryLimit,
			ProgressDeadlineSeconds: settings.ProgressDeadlineSeconds,
		},
	}
}

// primaryReplicas is nil (not written) when an autoscaler owns the
// primary's replicas; otherwise the primary's current count, or on
// creation the target's (at least 1: a target at zero is one we scaled
// down before).
func primaryReplicas(c *meshv1alpha1.Canary, target, existing *appsv1.Deployment) *int32 {
	if c.Spec.AutoscalerRef != nil {
		return nil
	}
	if existing != nil && existing.Spec.Replicas != nil {
		return ptr.To(*existing.Spec.Replicas)
	}
	if target.Spec.Replicas != nil && *target.Spec.Replicas > 0 {
		return ptr.To(*target.Spec.Replicas)
	}
	return ptr.To[int32](1)
}

// primaryTemplate is the target's pod template as the primary runs it: the
// selector label rewritten and config references pointed at the copies.
// Its ConfigChecksumAnnotation makes a promotion that changed only configs
// restart the primary's pods, which read env vars only at start.
func primaryTemplate(t corev1.PodTemplateSpec, sel selectorLabel, configs []trackedConfig) corev1.PodTemplateSpec {
	out := *t.DeepCopy()
	out.Labels = rewriteLabel(out.Labels, sel, true)
	usePrimaryConfigs(&out.Spec, configs)
	if len(configs) > 0 {
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[ConfigChecksumAnnotation] = configsChecksum(configs)
	}
	return out
}

// ConfigChecksumAnnotation, on the primary's pod template, sums the
// content of the configs the primary was promoted with.
const ConfigChecksumAnnotation = "sluice.dev/config-checksum"

// appliedTemplate is the pod template we last applied to the primary, read
// from its managed fields, so that re-applying it changes nothing and drops
// nothing. A primary without our managed fields (adopted, or read from a
// cache that strips them) gives its whole template instead.
func appliedTemplate(primary *appsv1.Deployment) corev1.PodTemplateSpec {
	if ac, err := appsv1ac.ExtractDeployment(primary, FieldManager); err == nil && ac.Spec != nil && ac.Spec.Template != nil {
		if raw, err := json.Marshal(ac.Spec.Template); err == nil {
			var t corev1.PodTemplateSpec
			if err := json.Unmarshal(raw, &t); err == nil && len(t.Spec.Containers) > 0 {
				return t
			}
		}
	}
	return *primary.Spec.Template.DeepCopy()
}

// rewriteLabel returns labels with the selector label set to its primary
// value; add says whether to add it when missing (pod labels must carry
// it, the Deployment's own labels need not).
func rewriteLabel(labels map[string]string, sel selectorLabel, add bool) map[string]string {
	out := maps.Clone(labels)
	if _, ok := out[sel.key]; ok || add {
		if out == nil {
			out = map[string]string{}
		}
		out[sel.key] = sel.primaryValue()
	}
	return out
}

// primarySelector is the target's selector with the selector label set to
// its primary value (added when the target's selector lacks it, so that the
// primary never selects the target's pods) and expressions on that label
// dropped.
func primarySelector(target *metav1.LabelSelector, sel selectorLabel) *metav1.LabelSelector {
	out := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	if target != nil {
		maps.Copy(out.MatchLabels, target.MatchLabels)
		for _, expr := range target.MatchExpressions {
			if expr.Key != sel.key {
				out.MatchExpressions = append(out.MatchExpressions, expr)
			}
		}
	}
	out.MatchLabels[sel.key] = sel.primaryValue()
	return out
}
