package webhooks

import (
	"context"
	"encoding/json"
	"net/http"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// minimalPatchDefaulter serves an admission.Defaulter but answers with a patch of only the fields it set.
//
// controller-runtime's own defaulting handler patches the whole object as Go re-encodes it, so a user's "1m"
// would be stored as "1m0s" and a threshold of 99.5 as "99500m" whenever any default applies; GitOps tools then
// see a drift on every sync. Diffing the object before and after defaulting, both encoded by Go, leaves only the
// defaults in the patch.
func minimalPatchDefaulter[T runtime.Object](decoder admission.Decoder, newObj func() T, defaulter admission.Defaulter[T]) *webhook.Admission {
	return &webhook.Admission{Handler: admission.HandlerFunc(func(ctx context.Context, req admission.Request) admission.Response {
		if req.Operation == admissionv1.Delete {
			return admission.Allowed("")
		}
		obj := newObj()
		if err := decoder.Decode(req, obj); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		before, err := json.Marshal(obj)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		if err := defaulter.Default(admission.NewContextWithRequest(ctx, req), obj); err != nil {
			return admission.Denied(err.Error())
		}
		after, err := json.Marshal(obj)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		patch, err := jsonpatch.CreatePatch(before, after)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		if len(patch) == 0 {
			return admission.Allowed("")
		}
		return admission.Response{
			Patches: patch,
			AdmissionResponse: admissionv1.AdmissionResponse{
				Allowed:   true,
				PatchType: ptr.To(admissionv1.PatchTypeJSONPatch),
			},
		}
	})}
}
