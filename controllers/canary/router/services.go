package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// OriginalSelectorAnnotation is set on an adopted apex Service (one that
// existed before the Canary): the JSON of its selector before we changed it,
// given back by Finalize.
const OriginalSelectorAnnotation = "sluice.dev/original-selector"

// ErrSelectorLabelMissing: the target's pod template has none of the selector
// label keys, so no Service can tell primary pods from canary pods.
var ErrSelectorLabelMissing = errors.New("the target's pod template has none of the selector labels")

var serviceGVK = corev1.SchemeGroupVersion.WithKind("Service")

// TargetSelector is the selector label of a workload whose pod template
// carries podLabels: the first of keys found, and its value. The canary
// Service selects key=value, the primary and apex key=value-primary, so the
// primary's pods must be labelled that way.
func TargetSelector(podLabels map[string]string, keys []string) (key, value string, err error) {
	for _, k := range keys {
		if v, ok := podLabels[k]; ok && v != "" {
			return k, v, nil
		}
	}
	return "", "", fmt.Errorf("%w (%v)", ErrSelectorLabelMissing, keys)
}

// Services reconciles the three Services every provider needs:
//   - `<app>-primary`, selecting the primary's pods;
//   - `<app>-canary`, selecting the target's pods;
//   - `<app>`, the apex clients call, selecting the primary's pods (or the
//     target's, for the kubernetes provider's blue/green switch). A Service
//     of that name that already exists is adopted: only its selector (and the
//     labels and annotations of spec.service.apex) are changed, its original
//     selector is kept in OriginalSelectorAnnotation and given back by
//     Finalize, and it is never deleted.
//
// Ports come from spec.service, metadata from spec.service.apex, primary and
// canary. Services we create are controlled by the Canary.
type Services struct {
	client         client.Client
	liveReader     client.Reader // nil: read the apex as unstructured through client
	selectorLabels []string
}

// NewServices returns Services for opts (see Options.SelectorLabels).
func NewServices(c client.Client, opts Options) *Services {
	keys := opts.SelectorLabels
	if len(keys) == 0 {
		keys = DefaultSelectorLabels
	}
	return &Services{client: c, liveReader: opts.LiveReader, selectorLabels: keys}
}

// selectors are the three selectors of a Canary's Services.
type selectors struct {
	primary, target map[string]string
}

// selectors reads the target Deployment's pod labels.
func (s *Services) selectors(ctx context.Context, c *meshv1alpha1.Canary) (selectors, error) {
	target := &appsv1.Deployment{}
	key := types.NamespacedName{Namespace: c.Namespace, Name: c.Spec.TargetRef.Name}
	if err := s.client.Get(ctx, key, target); err != nil {
		return selectors{}, fmt.Errorf("get target Deployment %s: %w", key, err)
	}
	k, v, err := TargetSelector(target.Spec.Template.Labels, s.selectorLabels)
	if err != nil {
		return selectors{}, fmt.Errorf("target Deployment %s: %w", key, err)
	}
	return selectors{primary: map[string]string{k: v + "-primary"}, target: map[string]string{k: v}}, nil
}

// Reconcile applies the three Services. The apex keeps selecting the target
// when the kubernetes provider switched it there; otherwise it selects the
// primary.
func (s *Services) Reconcile(ctx context.Context, c *meshv1alpha1.Canary) error {
	sel, err := s.selectors(ctx, c)
	if err != nil {
		return err
	}
	svc := c.Spec.Service
	for _, want := range []*corev1.Service{
		s.owned(c, primaryName(c), svc.Primary, sel.primary),
		s.owned(c, canaryName(c), svc.Canary, sel.target),
	} {
		if err := applyObject(ctx, s.client, want); err != nil {
			return err
		}
	}
	apex, err := s.getApex(ctx, c)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	apexSelector := sel.primary
	if err == nil && maps.Equal(apex.Spec.Selector, sel.target) && s.isOursOrAdopted(c, apex) {
		apexSelector = sel.target
	}
	return s.applyApex(ctx, c, apex, apexSelector)
}

// pointApex makes the apex select the target (toTarget) or the primary.
func (s *Services) pointApex(ctx context.Context, c *meshv1alpha1.Canary, toTarget bool) error {
	sel, err := s.selectors(ctx, c)
	if err != nil {
		return err
	}
	apex, err := s.getApex(ctx, c)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	want := sel.primary
	if toTarget {
		want = sel.target
	}
	if apex != nil && s.isOursOrAdopted(c, apex) && maps.Equal(apex.Spec.Selector, want) {
		// Already switched: the rest of the apex is Reconcile's to keep.
		return nil
	}
	return s.applyApex(ctx, c, apex, want)
}

// apexSelectsTarget says whether the apex selects the target (true) or the
// primary (false); anything else is an error.
func (s *Services) apexSelectsTarget(ctx context.Context, c *meshv1alpha1.Canary) (bool, error) {
	sel, err := s.selectors(ctx, c)
	if err != nil {
		return false, err
	}
	apex, err := s.getApex(ctx, c)
	if err != nil {
		return false, err
	}
	switch {
	case maps.Equal(apex.Spec.Selector, sel.primary):
		return false, nil
	case maps.Equal(apex.Spec.Selector, sel.target):
		return true, nil
	default:
		return false, fmt.Errorf("apex Service %s/%s selects %v, neither the primary (%v) nor the target (%v)",
			c.Namespace, apexName(c), apex.Spec.Selector, sel.primary, sel.target)
	}
}

// Finalize points the apex back at the target (FinalizeApex), then deletes
// (remove) or orphans `<app>-primary` and `<app>-canary` (FinalizeBackends).
// Routers call the two halves around their route objects, so that no route
// is left pointing at a deleted Service.
func (s *Services) Finalize(ctx context.Context, c *meshv1alpha1.Canary, remove bool) error {
	if err := s.FinalizeApex(ctx, c); err != nil {
		return err
	}
	return s.FinalizeBackends(ctx, c, remove)
}

// FinalizeApex points the apex back at the target: an adopted apex gets its
// original selector back and loses what we added; one we created selects
// the target and is orphaned, never deleted (clients keep calling it).
func (s *Services) FinalizeApex(ctx context.Context, c *meshv1alpha1.Canary) error {
	apex, err := s.getApex(ctx, c)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	case apex.Annotations[OriginalSelectorAnnotation] != "":
		return s.restoreAdopted(ctx, c, apex)
	case !metav1.IsControlledBy(apex, c):
		return nil // not ours and never adopted: nothing of ours to undo
	}
	sel, err := s.selectors(ctx, c)
	if err != nil {
		return err
	}
	want := s.owned(c, apexName(c), c.Spec.Service.Apex, sel.target)
	want.OwnerReferences = nil // applying without it drops ours: orphaned
	return applyObject(ctx, s.client, want)
}

// FinalizeBackends deletes (remove) or orphans `<app>-primary` and
// `<app>-canary`.
func (s *Services) FinalizeBackends(ctx context.Context, c *meshv1alpha1.Canary, remove bool) error {
	for _, name := range []string{primaryName(c), canaryName(c)} {
		if err := finalizeObject(ctx, s.client, c, serviceGVK, name, remove); err != nil {
			return err
		}
	}
	return nil
}

func (s *Services) getApex(ctx context.Context, c *meshv1alpha1.Canary) (*corev1.Service, error) {
	apex := &corev1.Service{}
	key := types.NamespacedName{Namespace: c.Namespace, Name: apexName(c)}
	if s.liveReader != nil {
		if err := s.liveReader.Get(ctx, key, apex); err != nil {
			return nil, fmt.Errorf("get Service %s: %w", key, err)
		}
		return apex, nil
	}
	if err := getObject(ctx, s.client, serviceGVK, key, apex); err != nil {
		return nil, err
	}
	return apex, nil
}

func (s *Services) isOursOrAdopted(c *meshv1alpha1.Canary, apex *corev1.Service) bool {
	return metav1.IsControlledBy(apex, c) || apex.Annotations[OriginalSelectorAnnotation] != ""
}

// applyApex applies the apex with selector. current is the apex as read (nil
// when missing): one the Canary does not control is adopted.
func (s *Services) applyApex(ctx context.Context, c *meshv1alpha1.Canary, current *corev1.Service, selector map[string]string) error {
	if current == nil || metav1.IsControlledBy(current, c) {
		return applyObject(ctx, s.client, s.owned(c, apexName(c), c.Spec.Service.Apex, selector))
	}
	original := current.Annotations[OriginalSelectorAnnotation]
	if original == "" {
		raw, err := json.Marshal(current.Spec.Selector)
		if err != nil {
			return fmt.Errorf("encode selector of Service %s/%s: %w", c.Namespace, apexName(c), err)
		}
		original = string(raw)
	}
	want := s.service(c, apexName(c), c.Spec.Service.Apex)
	if want.Annotations == nil {
		want.Annotations = map[string]string{}
	}
	want.Annotations[OriginalSelectorAnnotation] = original
	want.Spec.Selector = selector
	return applyObject(ctx, s.client, want)
}

// restoreAdopted gives an adopted apex its original selector back. Applying
// only the selector releases everything else we had set (our labels,
// annotations and the original-selector note).
func (s *Services) restoreAdopted(ctx context.Context, c *meshv1alpha1.Canary, apex *corev1.Service) error {
	var original map[string]string
	if err := json.Unmarshal([]byte(apex.Annotations[OriginalSelectorAnnotation]), &original); err != nil {
		return fmt.Errorf("apex Service %s/%s: annotation %s: %w", c.Namespace, apex.Name, OriginalSelectorAnnotation, err)
	}
	want := s.service(c, apex.Name, nil)
	want.Spec.Selector = original
	return applyObject(ctx, s.client, want)
}

// service is the bare Service name with the extra metadata meta.
func (s *Services) service(c *meshv1alpha1.Canary, name string, meta *meshv1alpha1.ObjectMetadata) *corev1.Service {
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace},
	}
	if meta != nil {
		svc.Labels = maps.Clone(meta.Labels)
		svc.Annotations = maps.Clone(meta.Annotations)
	}
	return svc
}

// owned is a Service we create: the Canary controls it, ports from
// spec.service.
func (s *Services) owned(c *meshv1alpha1.Canary, name string, meta *meshv1alpha1.ObjectMetadata, selector map[string]string) *corev1.Service {
	svc := s.service(c, name, meta)
	svc.OwnerReferences = []metav1.OwnerReference{ownerReference(c)}
	spec := c.Spec.Service
	port := corev1.ServicePort{
		Name:        spec.PortName,
		Protocol:    corev1.ProtocolTCP,
		Port:        spec.Port,
		TargetPort:  intstr.FromInt32(spec.Port),
		AppProtocol: spec.AppProtocol,
	}
	if port.Name == "" {
		port.Name = "http"
	}
	if spec.TargetPort != nil {
		port.TargetPort = *spec.TargetPort
	}
	svc.Spec = corev1.ServiceSpec{
		Type:     corev1.ServiceTypeClusterIP,
		Selector: maps.Clone(selector),
		Ports:    []corev1.ServicePort{port},
	}
	return svc
}
