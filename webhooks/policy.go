package webhooks

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// +kubebuilder:webhook:path=/mutate-mesh-sluice-dev-v1alpha1-policy,mutating=true,failurePolicy=fail,sideEffects=None,groups=mesh.sluice.dev,resources=policies,verbs=create;update,versions=v1alpha1,name=mpolicy.mesh.sluice.dev,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-mesh-sluice-dev-v1alpha1-policy,mutating=false,failurePolicy=fail,sideEffects=None,groups=mesh.sluice.dev,resources=policies,verbs=create;update,versions=v1alpha1,name=vpolicy.mesh.sluice.dev,admissionReviewVersions=v1

const (
	policyDefaultingPath = "/mutate-mesh-sluice-dev-v1alpha1-policy"
	policyValidationPath = "/validate-mesh-sluice-dev-v1alpha1-policy"
)

// PolicyDefaulter sets the Policy defaults that depend on other fields.
type PolicyDefaulter struct{}

var _ admission.Defaulter[*meshv1alpha1.Policy] = &PolicyDefaulter{}

// Default sets rateLimit.burst to rateLimit.requestsPerSecond and retries.retryOn to connect-failure and
// gateway-error.
func (d *PolicyDefaulter) Default(_ context.Context, p *meshv1alpha1.Policy) error {
	if rl := p.Spec.RateLimit; rl != nil && rl.Burst == nil && rl.RequestsPerSecond > 0 {
		rl.Burst = ptr.To(rl.RequestsPerSecond)
	}
	if p.Spec.Retries != nil {
		defaultRetries(&p.Spec.Retries.Retries)
	}
	return nil
}

// PolicyValidator rejects what the CRD's schema and CEL rules cannot: durations that contradict each other,
// regular expressions, and authorization path prefixes that can never match.
type PolicyValidator struct {
	// Reader lists the other Policies of the namespace, to warn about a conflict.
	Reader client.Reader
}

var _ admission.Validator[*meshv1alpha1.Policy] = &PolicyValidator{}

func (v *PolicyValidator) ValidateCreate(ctx context.Context, p *meshv1alpha1.Policy) (admission.Warnings, error) {
	errs, warnings := validatePolicySpec(p)
	warnings = append(warnings, v.conflictWarnings(ctx, p)...)
	return warnings, invalid("Policy", p, errs)
}

// ValidateUpdate lets through updates that leave the spec alone (see CanaryValidator.ValidateUpdate).
func (v *PolicyValidator) ValidateUpdate(ctx context.Context, old, p *meshv1alpha1.Policy) (admission.Warnings, error) {
	if equality.Semantic.DeepEqual(old.Spec, p.Spec) || p.DeletionTimestamp != nil {
		return nil, nil
	}
	errs, warnings := validatePolicySpec(p)
	if old.Spec.TargetRef != p.Spec.TargetRef {
		warnings = append(warnings, v.conflictWarnings(ctx, p)...)
	}
	return warnings, invalid("Policy", p, errs)
}

func (v *PolicyValidator) ValidateDelete(context.Context, *meshv1alpha1.Policy) (admission.Warnings, error) {
	return nil, nil
}

func validatePolicySpec(p *meshv1alpha1.Policy) (field.ErrorList, admission.Warnings) {
	spec := field.NewPath("spec")
	var errs field.ErrorList
	var warnings admission.Warnings

	errs = append(errs, positive(p.Spec.Timeout, spec.Child("timeout"))...)
	if r := p.Spec.Retries; r != nil {
		tryPath := spec.Child("retries", "perTryTimeout")
		errs = append(errs, positive(r.PerTryTimeout, tryPath)...)
		errs = append(errs, notLonger(r.PerTryTimeout, tryPath, p.Spec.Timeout, spec.Child("timeout"),
			"a try cannot outlast the whole request, so no retry would ever happen")...)
	}
	if cb := p.Spec.CircuitBreaker; cb != nil {
		errs = append(errs, positive(cb.Interval, spec.Child("circuitBreaker", "interval"))...)
		errs = append(errs, positive(cb.BaseEjectionTime, spec.Child("circuitBreaker", "baseEjectionTime"))...)
	}
	if f := p.Spec.Fault; f != nil {
		fPath := spec.Child("fault")
		if f.Delay != nil {
			delayPath := fPath.Child("delay", "duration")
			errs = append(errs, positive(&f.Delay.Duration, delayPath)...)
			if p.Spec.Timeout != nil && f.Delay.Duration.Duration >= p.Spec.Timeout.Duration {
				warnings = append(warnings, fmt.Sprintf("%s: %s is not shorter than spec.timeout (%s): every delayed request times out",
					delayPath, f.Delay.Duration.Duration, p.Spec.Timeout.Duration))
			}
		}
		errs = append(errs, validateHeaderMatches(f.Headers, fPath.Child("headers"))...)
	}
	if authz := p.Spec.Authorization; authz != nil {
		aPath := spec.Child("authorization")
		for i, rule := range authz.Rules {
			for j, prefix := range rule.PathPrefixes {
				errs = append(errs, validatePathPrefix(prefix, aPath.Child("rules").Index(i).Child("pathPrefixes").Index(j))...)
			}
		}
		if authz.Default == meshv1alpha1.AuthorizationDeny && len(authz.Rules) == 0 {
			warnings = append(warnings, fmt.Sprintf("%s: default Deny without rules refuses every request to Service %s", aPath, p.Spec.TargetRef.Name))
		}
	}
	return errs, warnings
}

// validatePathPrefix rejects prefixes that can never match: proxies compare them with the request's path,
// normalised (no . or .. segments, no empty segments) and without query or fragment. An authorization rule that
// silently never matches is worse than a rejection.
func validatePathPrefix(prefix string, path *field.Path) field.ErrorList {
	switch {
	case strings.ContainsAny(prefix, "?#"):
		return field.ErrorList{field.Invalid(path, prefix, "must not contain a query (?) or fragment (#): prefixes match the path only")}
	case strings.Contains(prefix, "//"):
		return field.ErrorList{field.Invalid(path, prefix, "must not contain an empty segment (//): request paths are normalised")}
	}
	for _, segment := range strings.Split(prefix, "/") {
		if segment == "." || segment == ".." {
			return field.ErrorList{field.Invalid(path, prefix, "must not contain . or .. segments: request paths are normalised")}
		}
	}
	return nil
}

// conflictWarnings says when another Policy already targets the same Service: not a rejection (the oldest is
// applied, the others report Accepted=False, reason Conflicted), but the user should know at once.
func (v *PolicyValidator) conflictWarnings(ctx context.Context, p *meshv1alpha1.Policy) admission.Warnings {
	var policies meshv1alpha1.PolicyList
	if err := v.Reader.List(ctx, &policies, client.InNamespace(p.Namespace)); err != nil {
		return admission.Warnings{fmt.Sprintf("spec.targetRef: conflicts not checked: cannot list Policies: %v", err)}
	}
	var warnings admission.Warnings
	for _, other := range policies.Items {
		if other.Name != p.Name && other.Spec.TargetRef.Name == p.Spec.TargetRef.Name {
			warnings = append(warnings, fmt.Sprintf(
				"spec.targetRef.name: Policy %s already targets Service %s; only the oldest Policy of a Service is applied, the others report Accepted=False (Conflicted)",
				other.Name, p.Spec.TargetRef.Name))
		}
	}
	return warnings
}
