package servingcert

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// loader runs in every replica: it keeps the serving certificate from the Secret in memory for the webhook
// server's TLS handshakes.
type loader struct {
	reader client.Reader
	secret client.ObjectKey

	current   atomic.Pointer[tls.Certificate]
	ready     chan struct{}
	readyOnce sync.Once
}

func newLoader(reader client.Reader, secret client.ObjectKey) *loader {
	return &loader{reader: reader, secret: secret, ready: make(chan struct{})}
}

// Reconcile loads the Secret's serving certificate. A missing or half-written Secret is not an error: the leader
// will write it, and the watch brings us here again.
func (l *loader) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	log := logf.FromContext(ctx)
	var secret corev1.Secret
	if err := l.reader.Get(ctx, l.secret, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			log.Info("Waiting for the leader to create the webhook serving certificate Secret")
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("get Secret %s: %w", l.secret, err)
	}
	pair, err := tls.X509KeyPair(secret.Data[keyServingCert], secret.Data[keyServingKey])
	if err != nil {
		log.Info("Secret holds no usable serving certificate yet", "error", err.Error())
		return reconcile.Result{}, nil
	}
	if old := l.current.Load(); old != nil && sameCertificate(old, &pair) {
		return reconcile.Result{}, nil
	}
	l.current.Store(&pair)
	log.Info("Serving webhooks with certificate", "certificate", describe(pair.Leaf))
	l.readyOnce.Do(func() { close(l.ready) })
	return reconcile.Result{}, nil
}

func sameCertificate(a, b *tls.Certificate) bool {
	return len(a.Certificate) > 0 && len(b.Certificate) > 0 && string(a.Certificate[0]) == string(b.Certificate[0])
}

// getCertificate is the webhook server's tls.Config.GetCertificate. Until the first certificate is loaded every
// handshake fails, which the API server reports like an unreachable webhook.
func (l *loader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := l.current.Load(); c != nil {
		return c, nil
	}
	return nil, errors.New("webhook serving certificate not loaded yet")
}

// configureTLS is a webhook.Options.TLSOpts entry.
func (l *loader) configureTLS(cfg *tls.Config) {
	cfg.GetCertificate = l.getCertificate
}

// readyCheck is a healthz.Checker: the replica is ready once it can serve webhooks.
func (l *loader) readyCheck(*http.Request) error {
	if l.current.Load() == nil {
		return errors.New("webhook serving certificate not loaded yet")
	}
	return nil
}
