package servingcert

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// +kubebuilder:rbac:groups="",namespace=sluice-system,resources=secrets,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations;validatingwebhookconfigurations,verbs=get;list;watch;patch

// rotator runs in the leader only: it keeps the Secret's CA and serving certificate valid and the caBundle of our
// webhook configurations equal to the Secret's CA bundle.
type rotator struct {
	reader client.Reader // the scoped cache: only our Secret and our two webhook configurations
	writer client.Client
	opts   Options
	now    func() time.Time
}

func (r *rotator) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	caBundle, next, err := r.ensureSecret(ctx)
	if err == nil {
		err = r.injectCABundle(ctx, caBundle)
	}
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		// Our cache had not seen the latest write yet (often our own); its event brings us back anyway.
		logf.FromContext(ctx).V(1).Info("Retrying after a concurrent write", "reason", err.Error())
		return reconcile.Result{RequeueAfter: time.Second}, nil
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: max(next.Sub(r.now()), time.Second)}, nil
}

// ensureSecret creates or renews the Secret as needed and returns its CA bundle and when to look again.
func (r *rotator) ensureSecret(ctx context.Context) (caBundle []byte, next time.Time, err error) {
	log := logf.FromContext(ctx)
	key := client.ObjectKey{Namespace: r.opts.Namespace, Name: r.opts.SecretName}

	secret := &corev1.Secret{}
	exists := true
	if err := r.reader.Get(ctx, key, secret); err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, time.Time{}, fmt.Errorf("get Secret %s: %w", key, err)
		}
		exists = false
		secret = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name},
			Type:       corev1.SecretTypeTLS,
		}
	}

	plan, err := renew(secret.Data, r.opts.subject(), r.now(), lifetimes{CA: r.opts.CAValidity, Serving: r.opts.ServingValidity})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("issue webhook certificates: %w", err)
	}
	if plan.Data == nil {
		return secret.Data[keyCACert], plan.Next, nil
	}

	// Update carries the resourceVersion we read: if another writer (a former leader) got there first, the update
	// conflicts and the next pass starts from what it wrote.
	secret.Data = plan.Data
	if exists {
		err = r.writer.Update(ctx, secret)
	} else {
		err = r.writer.Create(ctx, secret)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("write Secret %s: %w", key, err)
	}
	log.Info("Issued webhook serving certificate", "secret", key, "reasons", strings.Join(plan.Reasons, "; "))
	return plan.Data[keyCACert], plan.Next, nil
}
