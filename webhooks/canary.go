package webhooks

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// +kubebuilder:webhook:path=/mutate-mesh-sluice-dev-v1alpha1-canary,mutating=true,failurePolicy=fail,sideEffects=None,groups=mesh.sluice.dev,resources=canaries,verbs=create;update,versions=v1alpha1,name=mcanary.mesh.sluice.dev,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-mesh-sluice-dev-v1alpha1-canary,mutating=false,failurePolicy=fail,sideEffects=None,groups=mesh.sluice.dev,resources=canaries,verbs=create;update,versions=v1alpha1,name=vcanary.mesh.sluice.dev,admissionReviewVersions=v1

const (
	canaryDefaultingPath = "/mutate-mesh-sluice-dev-v1alpha1-canary"
	canaryValidationPath = "/validate-mesh-sluice-dev-v1alpha1-canary"

	// defaultAnalysisInterval is the CRD default of spec.analysis.interval, for a request the API server has not
	// defaulted (it always has, for a CRD with defaults, but the webhook does not rely on it).
	defaultAnalysisInterval = time.Minute
)

// defaultRetryOn is the documented default of retries.retryOn: failures after which a retry is always safe.
var defaultRetryOn = []meshv1alpha1.RetryCondition{meshv1alpha1.RetryOnConnectFailure, meshv1alpha1.RetryOnGatewayError}

// CanaryDefaulter sets the Canary defaults that depend on other fields (the CRD sets the constant ones).
type CanaryDefaulter struct{}

var _ admission.Defaulter[*meshv1alpha1.Canary] = &CanaryDefaulter{}

// Default sets maxWeight to 100 with stepWeight, mirrorWeight to 100 with mirror, and retries.retryOn to
// connect-failure and gateway-error.
//
// Defaults that follow another field (service.targetPort from service.port, a metric's interval from the analysis
// interval) are not written here: a stored copy would not follow a later change of that field with client-side
// apply. The reconciler resolves them each time it reads the spec.
func (d *CanaryDefaulter) Default(_ context.Context, c *meshv1alpha1.Canary) error {
	defaultRetries(c.Spec.Service.Retries)

	a := &c.Spec.Analysis
	if a.StepWeight != nil && a.MaxWeight == nil {
		a.MaxWeight = ptr.To[int32](100)
	}
	if a.Mirror && a.MirrorWeight == nil {
		a.MirrorWeight = ptr.To[int32](100)
	}
	return nil
}

func defaultRetries(r *meshv1alpha1.Retries) {
	if r != nil && len(r.RetryOn) == 0 {
		r.RetryOn = append([]meshv1alpha1.RetryCondition(nil), defaultRetryOn...)
	}
}

func analysisInterval(a *meshv1alpha1.CanaryAnalysis) *metav1.Duration {
	if a.Interval != nil {
		return a.Interval
	}
	return &metav1.Duration{Duration: defaultAnalysisInterval}
}

// CanaryValidator rejects what the CRD's schema and CEL rules cannot: query template syntax, durations that
// contradict each other, regular expressions, and a second Canary for the same workload.
type CanaryValidator struct {
	// Reader lists the other Canaries of the namespace and reads the Mesh; live reads, so two Canaries created
	// at once still see each other.
	Reader client.Reader
}

var _ admission.Validator[*meshv1alpha1.Canary] = &CanaryValidator{}

func (v *CanaryValidator) ValidateCreate(ctx context.Context, c *meshv1alpha1.Canary) (admission.Warnings, error) {
	errs, warnings := validateCanarySpec(c)
	targetErrs, err := v.validateTargetIsFree(ctx, c)
	if err != nil {
		return warnings, err
	}
	errs = append(errs, targetErrs...)
	warnings = append(warnings, v.templateWarnings(ctx, c)...)
	return warnings, invalid("Canary", c, errs)
}

// ValidateUpdate validates the new spec, but lets through updates that leave the spec alone (finalizers, labels,
// the action annotation), so an object admitted by an older, laxer webhook can always be cleaned up.
func (v *CanaryValidator) ValidateUpdate(ctx context.Context, old, c *meshv1alpha1.Canary) (admission.Warnings, error) {
	if equality.Semantic.DeepEqual(old.Spec, c.Spec) || c.DeletionTimestamp != nil {
		return nil, nil
	}
	errs, warnings := validateCanarySpec(c)
	warnings = append(warnings, v.templateWarnings(ctx, c)...)
	return warnings, invalid("Canary", c, errs)
}

func (v *CanaryValidator) ValidateDelete(context.Context, *meshv1alpha1.Canary) (admission.Warnings, error) {
	return nil, nil
}

// validateCanarySpec checks the Canary on its own.
func validateCanarySpec(c *meshv1alpha1.Canary) (field.ErrorList, admission.Warnings) {
	spec := field.NewPath("spec")
	var errs field.ErrorList
	var warnings admission.Warnings

	svc, svcPath := c.Spec.Service, spec.Child("service")
	errs = append(errs, positive(svc.Timeout, svcPath.Child("timeout"))...)
	if svc.Retries != nil {
		tryPath := svcPath.Child("retries", "perTryTimeout")
		errs = append(errs, positive(svc.Retries.PerTryTimeout, tryPath)...)
		errs = append(errs, notLonger(svc.Retries.PerTryTimeout, tryPath, svc.Timeout, svcPath.Child("timeout"),
			"a try cannot outlast the whole request, so no retry would ever happen")...)
	}
	if c.Spec.Provider == meshv1alpha1.ProviderKubernetes && (svc.Timeout != nil || svc.Retries != nil || svc.Headers != nil) {
		warnings = append(warnings, fmt.Sprintf("%s: timeout, retries and headers are ignored by provider kubernetes, which has no route object", svcPath))
	}

	a, aPath := &c.Spec.Analysis, spec.Child("analysis")
	metricErrs, metricWarnings := validateMetrics(a.Metrics, aPath.Child("metrics"))
	errs = append(errs, metricErrs...)
	warnings = append(warnings, metricWarnings...)

	interval := analysisInterval(a)
	for i, wh := range a.Webhooks {
		p := aPath.Child("webhooks").Index(i)
		errs = append(errs, positive(wh.Timeout, p.Child("timeout"))...)
		if wh.GateTimeout != nil && wh.GateTimeout.Duration < interval.Duration {
			errs = append(errs, field.Invalid(p.Child("gateTimeout"), wh.GateTimeout.Duration.String(), fmt.Sprintf(
				"must be at least %s (%s): the gate is asked once per interval", aPath.Child("interval"), interval.Duration)))
		}
	}
	for i, m := range a.Match {
		p := aPath.Child("match").Index(i)
		errs = append(errs, validateHeaderMatches(m.Headers, p.Child("headers"))...)
		errs = append(errs, validateQueryParamMatches(m.QueryParams, p.Child("queryParams"))...)
	}
	return errs, warnings
}

// validateTargetIsFree rejects a Canary whose workload another Canary of the namespace already delivers, or that
// targets the primary Deployment another Canary manages: two reconcilers would fight over the same objects.
func (v *CanaryValidator) validateTargetIsFree(ctx context.Context, c *meshv1alpha1.Canary) (field.ErrorList, error) {
	var canaries meshv1alpha1.CanaryList
	if err := v.Reader.List(ctx, &canaries, client.InNamespace(c.Namespace)); err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("list Canaries in %s: %w", c.Namespace, err))
	}
	path := field.NewPath("spec", "targetRef", "name")
	target := c.Spec.TargetRef
	for _, other := range canaries.Items {
		if other.Name == c.Name || other.Spec.TargetRef.Kind != target.Kind {
			continue
		}
		switch target.Name {
		case other.Spec.TargetRef.Name:
			return field.ErrorList{field.Invalid(path, target.Name, fmt.Sprintf(
				"Canary %s already delivers %s %s; a workload can have only one Canary", other.Name, target.Kind, target.Name))}, nil
		case other.Spec.TargetRef.Name + "-primary":
			return field.ErrorList{field.Invalid(path, target.Name, fmt.Sprintf(
				"is the primary %s that Canary %s manages; target %s instead", target.Kind, other.Name, other.Spec.TargetRef.Name))}, nil
		}
	}
	return nil, nil
}

// templateWarnings warns about templateRefs the Mesh default does not (yet) define. Not a rejection: the Mesh may
// be applied after the Canary, and the reconciler reports a template it cannot resolve.
func (v *CanaryValidator) templateWarnings(ctx context.Context, c *meshv1alpha1.Canary) admission.Warnings {
	var refs []int
	for i, m := range c.Spec.Analysis.Metrics {
		if m.TemplateRef != nil {
			refs = append(refs, i)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	var mesh meshv1alpha1.Mesh
	if err := v.Reader.Get(ctx, client.ObjectKey{Name: meshv1alpha1.MeshName}, &mesh); err != nil {
		return admission.Warnings{fmt.Sprintf("spec.analysis.metrics: templateRefs not checked: cannot read Mesh %s: %v", meshv1alpha1.MeshName, err)}
	}
	templates := map[string]bool{}
	for _, t := range mesh.Spec.Metrics.Templates {
		templates[t.Name] = true
	}
	var warnings admission.Warnings
	for _, i := range refs {
		name := c.Spec.Analysis.Metrics[i].TemplateRef.Name
		if !templates[name] {
			warnings = append(warnings, fmt.Sprintf("%s: Mesh %s has no metric template %q (yet); the check fails until it does",
				field.NewPath("spec", "analysis", "metrics").Index(i).Child("templateRef", "name"), meshv1alpha1.MeshName, name))
		}
	}
	return warnings
}
