package webhooks

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// +kubebuilder:webhook:path=/mutate-mesh-sluice-dev-v1alpha1-mesh,mutating=true,failurePolicy=fail,sideEffects=None,groups=mesh.sluice.dev,resources=meshes,verbs=create;update,versions=v1alpha1,name=mmesh.mesh.sluice.dev,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-mesh-sluice-dev-v1alpha1-mesh,mutating=false,failurePolicy=fail,sideEffects=None,groups=mesh.sluice.dev,resources=meshes,verbs=create;update,versions=v1alpha1,name=vmesh.mesh.sluice.dev,admissionReviewVersions=v1

const (
	meshDefaultingPath = "/mutate-mesh-sluice-dev-v1alpha1-mesh"
	meshValidationPath = "/validate-mesh-sluice-dev-v1alpha1-mesh"

	// The documented defaults of a Rolling upgrade without spec.upgrade.rolling.
	defaultBatchPercent    = 25
	defaultUpgradeInterval = time.Minute
)

// MeshDefaulter sets the Mesh defaults that depend on other fields.
type MeshDefaulter struct{}

var _ admission.Defaulter[*meshv1alpha1.Mesh] = &MeshDefaulter{}

// Default spells out a Rolling upgrade's batches (25% every 1m) when spec.upgrade.rolling is not set. Upgrade
// metrics keep no copy of the upgrade interval (see CanaryDefaulter.Default).
func (d *MeshDefaulter) Default(_ context.Context, m *meshv1alpha1.Mesh) error {
	up := &m.Spec.Upgrade
	if up.Type == meshv1alpha1.ProxyUpgradeRolling && up.Rolling == nil {
		up.Rolling = &meshv1alpha1.RollingProxyUpgrade{
			BatchPercent: defaultBatchPercent,
			Interval:     &metav1.Duration{Duration: defaultUpgradeInterval},
		}
	}
	return nil
}

// MeshValidator rejects what the CRD's schema and CEL rules cannot: label selector semantics, resource requests
// above limits, zero lifetimes and timeouts, and query templates.
type MeshValidator struct{}

var _ admission.Validator[*meshv1alpha1.Mesh] = &MeshValidator{}

func (v *MeshValidator) ValidateCreate(_ context.Context, m *meshv1alpha1.Mesh) (admission.Warnings, error) {
	errs, warnings := validateMeshSpec(m)
	return warnings, invalid("Mesh", m, errs)
}

// ValidateUpdate lets through updates that leave the spec alone (see CanaryValidator.ValidateUpdate).
func (v *MeshValidator) ValidateUpdate(_ context.Context, old, m *meshv1alpha1.Mesh) (admission.Warnings, error) {
	if equality.Semantic.DeepEqual(old.Spec, m.Spec) || m.DeletionTimestamp != nil {
		return nil, nil
	}
	errs, warnings := validateMeshSpec(m)
	return warnings, invalid("Mesh", m, errs)
}

func (v *MeshValidator) ValidateDelete(context.Context, *meshv1alpha1.Mesh) (admission.Warnings, error) {
	return nil, nil
}

func validateMeshSpec(m *meshv1alpha1.Mesh) (field.ErrorList, admission.Warnings) {
	spec := field.NewPath("spec")
	var errs field.ErrorList

	errs = append(errs, validateResources(m.Spec.Proxy.Resources, spec.Child("proxy", "resources"))...)
	errs = append(errs, validateResources(m.Spec.ControlPlane.Resources, spec.Child("controlPlane", "resources"))...)
	if sel := m.Spec.Injection.NamespaceSelector; sel != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{},
			spec.Child("injection", "namespaceSelector"))...)
	}

	mtls, mtlsPath := m.Spec.MTLS, spec.Child("mtls")
	errs = append(errs, positive(mtls.IssuerLifetime, mtlsPath.Child("issuerLifetime"))...)
	if anchor := mtls.TrustAnchor.SelfSigned; anchor != nil {
		errs = append(errs, positive(anchor.Lifetime, mtlsPath.Child("trustAnchor", "selfSigned", "lifetime"))...)
	}
	if wh := m.Spec.EventWebhook; wh != nil {
		errs = append(errs, positive(wh.Timeout, spec.Child("eventWebhook", "timeout"))...)
	}

	templates := map[string]bool{}
	for i, t := range m.Spec.Metrics.Templates {
		p := spec.Child("metrics", "templates").Index(i)
		templates[t.Name] = true
		// A template gets its user variables from each metric that refers to it: only the syntax is checked.
		_, qErrs := parseQueryTemplate(t.Query, p.Child("query"))
		errs = append(errs, qErrs...)
		if t.RequestCountQuery != "" {
			_, qErrs := parseQueryTemplate(t.RequestCountQuery, p.Child("requestCountQuery"))
			errs = append(errs, qErrs...)
		}
	}

	var warnings admission.Warnings
	if rolling := m.Spec.Upgrade.Rolling; rolling != nil {
		metricsPath := spec.Child("upgrade", "rolling", "metrics")
		metricErrs, metricWarnings := validateMetrics(rolling.Metrics, metricsPath)
		errs = append(errs, metricErrs...)
		warnings = append(warnings, metricWarnings...)
		// Unlike a Canary's, these refer to the same object: a missing template is a plain mistake.
		for i, metric := range rolling.Metrics {
			if metric.TemplateRef != nil && !templates[metric.TemplateRef.Name] {
				errs = append(errs, field.NotFound(metricsPath.Index(i).Child("templateRef", "name"), metric.TemplateRef.Name))
			}
		}
	}
	return errs, warnings
}

// validateResources rejects a request above its limit, which the API server would only reject later, on every
// injected pod or the control plane's Deployment.
func validateResources(r *corev1.ResourceRequirements, path *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	for _, name := range slices.Sorted(maps.Keys(r.Limits)) {
		limit := r.Limits[name]
		if request, ok := r.Requests[name]; ok && request.Cmp(limit) > 0 {
			errs = append(errs, field.Invalid(path.Child("requests").Key(string(name)), request.String(),
				fmt.Sprintf("must be less than or equal to %s limit %s", name, limit.String())))
		}
	}
	return errs
}
