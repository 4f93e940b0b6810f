package servingcert

import (
	"context"
	"fmt"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// Setup makes the manager's webhook server serve the certificate kept in the Secret of opts, issued and renewed by
// the leader. Call it before mgr.Start and before or after registering webhooks. The returned channel is closed
// once this replica serves a certificate; the manager's readyz check "webhook-serving-cert" reports the same.
//
// With opts.External nothing is set up and the channel is already closed.
func Setup(mgr ctrl.Manager, opts Options) (ready <-chan struct{}, err error) {
	if opts.External {
		done := make(chan struct{})
		close(done)
		return done, nil
	}
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	server, ok := mgr.GetWebhookServer().(*webhook.DefaultServer)
	if !ok {
		return nil, fmt.Errorf("webhook server is a %T, not a *webhook.DefaultServer whose TLS options can be set", mgr.GetWebhookServer())
	}
	secretKey := client.ObjectKey{Namespace: opts.Namespace, Name: opts.SecretName}

	objects, err := newScopedCache(mgr, opts)
	if err != nil {
		return nil, err
	}

	load := newLoader(objects, secretKey)
	// Serving from memory instead of CertDir files: no writable volume needed, and the server can start before
	// the first certificate exists (handshakes fail until then, like an unready endpoint).
	server.Options.TLSOpts = append(server.Options.TLSOpts, load.configureTLS)
	if err := mgr.AddReadyzCheck("webhook-serving-cert", load.readyCheck); err != nil {
		return nil, fmt.Errorf("add readyz check: %w", err)
	}
	if err := setupLoader(mgr, objects, load); err != nil {
		return nil, err
	}
	rotate := &rotator{reader: objects, writer: mgr.GetClient(), opts: opts, now: time.Now}
	if err := setupRotator(mgr, objects, rotate); err != nil {
		return nil, err
	}
	return load.ready, nil
}

// setupLoader runs the loader in every replica (no leader election), on changes of the Secret.
func setupLoader(mgr ctrl.Manager, objects cache.Cache, load *loader) error {
	err := ctrl.NewControllerManagedBy(mgr).
		Named("webhook-serving-cert-loader").
		WithOptions(controller.Options{NeedLeaderElection: ptr.To(false)}).
		WatchesRawSource(source.Kind(objects, &corev1.Secret{}, enqueue[*corev1.Secret](load.secret))).
		Complete(load)
	if err != nil {
		return fmt.Errorf("set up webhook certificate loader: %w", err)
	}
	return nil
}

// setupRotator runs the rotator in the leader, at start and on changes of the Secret or of our webhook
// configurations (a `kubectl apply` that empties a caBundle is repaired at once).
func setupRotator(mgr ctrl.Manager, objects cache.Cache, rotate *rotator) error {
	key := client.ObjectKey{Namespace: rotate.opts.Namespace, Name: rotate.opts.SecretName}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("webhook-serving-cert-rotator").
		// Once at start: with no Secret and no webhook configuration yet, no watch would ever fire.
		WatchesRawSource(source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
			q.Add(reconcile.Request{NamespacedName: key})
			return nil
		})).
		WatchesRawSource(source.Kind(objects, &corev1.Secret{}, enqueue[*corev1.Secret](key))).
		WatchesRawSource(source.Kind(objects, &admissionregistrationv1.MutatingWebhookConfiguration{},
			enqueue[*admissionregistrationv1.MutatingWebhookConfiguration](key))).
		WatchesRawSource(source.Kind(objects, &admissionregistrationv1.ValidatingWebhookConfiguration{},
			enqueue[*admissionregistrationv1.ValidatingWebhookConfiguration](key))).
		Complete(rotate)
	if err != nil {
		return fmt.Errorf("set up webhook certificate rotator: %w", err)
	}
	return nil
}

// enqueue maps every event to the one request both reconcilers work on.
func enqueue[T client.Object](key client.ObjectKey) handler.TypedEventHandler[T, reconcile.Request] {
	return handler.TypedEnqueueRequestsFromMapFunc(func(context.Context, T) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: key}}
	})
}

// newScopedCache watches only our Secret and our two webhook configurations, so the manager needs no permission
// to list all Secrets and keeps no other Secret in memory.
func newScopedCache(mgr ctrl.Manager, opts Options) (cache.Cache, error) {
	byName := func(name string) fields.Selector { return fields.OneTermEqualSelector("metadata.name", name) }
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme: mgr.GetScheme(),
		Mapper: mgr.GetRESTMapper(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {
				Namespaces: map[string]cache.Config{opts.Namespace: {}},
				Field:      byName(opts.SecretName),
			},
			&admissionregistrationv1.MutatingWebhookConfiguration{}:   {Field: byName(opts.MutatingWebhookName)},
			&admissionregistrationv1.ValidatingWebhookConfiguration{}: {Field: byName(opts.ValidatingWebhookName)},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("create cache for the webhook certificate: %w", err)
	}
	if err := mgr.Add(cacheRunnable{c}); err != nil {
		return nil, fmt.Errorf("add cache for the webhook certificate: %w", err)
	}
	return c, nil
}

// cacheRunnable makes the manager start the cache with its own caches, in every replica and before any controller,
// instead of only in the leader (where a plain Runnable would go).
type cacheRunnable struct{ cache.Cache }

func (c cacheRunnable) GetCache() cache.Cache { return c.Cache }
