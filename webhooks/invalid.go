package webhooks

import (
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// invalid turns field errors into the API's Invalid status (HTTP 422), whose message lists every field, as
// kubectl shows it: `Canary.mesh.sluice.dev "app" is invalid: spec.service.timeout: Invalid value: ...`.
func invalid(kind string, obj client.Object, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(meshv1alpha1.GroupVersion.WithKind(kind).GroupKind(), obj.GetName(), errs)
}
