// Package webhooks holds Sluice's admission webhooks for Canary, Mesh and Policy: defaulting of fields whose default
// depends on other fields, and validation of what the CRD schema and its CEL rules cannot express (query template
// syntax, relations between durations, regular expressions, other objects). Every rejection names its field.
//
// What depends on other objects that may simply not exist yet (a target Deployment, the Mesh, a Secret) is never
// a rejection: the reconcilers report it, and the webhooks at most warn.
package webhooks

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// +kubebuilder:rbac:groups=mesh.sluice.dev,resources=canaries;policies,verbs=get;list;watch
// +kubebuilder:rbac:groups=mesh.sluice.dev,resources=meshes,verbs=get;list;watch

// SetupWithManager registers the defaulting and validating webhooks of Canary, Mesh and Policy with the manager's
// webhook server, at the paths of the +kubebuilder:webhook markers.
func SetupWithManager(mgr ctrl.Manager) error {
	decoder := admission.NewDecoder(mgr.GetScheme())
	// Live reads, not the cache: two Canaries applied together must see each other.
	reader := mgr.GetAPIReader()

	server := mgr.GetWebhookServer()
	server.Register(canaryDefaultingPath, minimalPatchDefaulter(decoder,
		func() *meshv1alpha1.Canary { return &meshv1alpha1.Canary{} }, &CanaryDefaulter{}))
	server.Register(meshDefaultingPath, minimalPatchDefaulter(decoder,
		func() *meshv1alpha1.Mesh { return &meshv1alpha1.Mesh{} }, &MeshDefaulter{}))
	server.Register(policyDefaultingPath, minimalPatchDefaulter(decoder,
		func() *meshv1alpha1.Policy { return &meshv1alpha1.Policy{} }, &PolicyDefaulter{}))

	if err := ctrl.NewWebhookManagedBy(mgr, &meshv1alpha1.Canary{}).
		WithValidator(&CanaryValidator{Reader: reader}).
		WithValidatorCustomPath(canaryValidationPath).
		Complete(); err != nil {
		return fmt.Errorf("set up Canary webhook: %w", err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &meshv1alpha1.Mesh{}).
		WithValidator(&MeshValidator{}).
		WithValidatorCustomPath(meshValidationPath).
		Complete(); err != nil {
		return fmt.Errorf("set up Mesh webhook: %w", err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &meshv1alpha1.Policy{}).
		WithValidator(&PolicyValidator{Reader: reader}).
		WithValidatorCustomPath(policyValidationPath).
		Complete(); err != nil {
		return fmt.Errorf("set up Policy webhook: %w", err)
	}
	return nil
}
