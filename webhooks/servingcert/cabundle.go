package servingcert

import (
	"bytes"
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// injectCABundle sets caBundle on every webhook of our two configurations. A configuration that does not exist yet
// is skipped: its creation triggers another pass.
func (r *rotator) injectCABundle(ctx context.Context, caBundle []byte) error {
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
	err := r.patchCABundle(ctx, "MutatingWebhookConfiguration", r.opts.MutatingWebhookName, mutating, caBundle,
		func() (ccs []*admissionregistrationv1.WebhookClientConfig) {
			for i := range mutating.Webhooks {
				ccs = append(ccs, &mutating.Webhooks[i].ClientConfig)
			}
			return ccs
		})
	if err != nil {
		return err
	}
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	return r.patchCABundle(ctx, "ValidatingWebhookConfiguration", r.opts.ValidatingWebhookName, validating, caBundle,
		func() (ccs []*admissionregistrationv1.WebhookClientConfig) {
			for i := range validating.Webhooks {
				ccs = append(ccs, &validating.Webhooks[i].ClientConfig)
			}
			return ccs
		})
}

// patchCABundle reads the named configuration into obj and patches the caBundle of each of its clientConfigs that
// differs.
func (r *rotator) patchCABundle(ctx context.Context, kind, name string, obj client.Object, caBundle []byte,
	clientConfigs func() []*admissionregistrationv1.WebhookClientConfig) error {
	if err := r.reader.Get(ctx, client.ObjectKey{Name: name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("get %s %s: %w", kind, name, err)
	}

	// The merge patch replaces the whole webhooks list; the optimistic lock makes sure it is the list we read.
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	changed := false
	for _, cc := range clientConfigs() {
		if !bytes.Equal(cc.CABundle, caBundle) {
			cc.CABundle = caBundle
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if err := r.writer.Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("patch caBundle of %s %s: %w", kind, name, err)
	}
	logf.FromContext(ctx).Info("Injected CA bundle", "kind", kind, "name", name)
	return nil
}
