// Command manager runs the Sluice operator: the Mesh, Canary and Policy
// reconcilers and the admission webhooks.
package main

import (
	"crypto/tls"
	"flag"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	// +kubebuilder:scaffold:imports
)

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(meshv1alpha1.AddToScheme(scheme))
	// +kubebuilder:scaffold:scheme
}

func main() {
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	opts, err := parseOptions(flag.CommandLine, os.Args[1:])
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	if err != nil {
		setupLog.Error(err, "Invalid flags")
		os.Exit(2)
	}
	if err := run(opts); err != nil {
		setupLog.Error(err, "Manager stopped with an error")
		os.Exit(1)
	}
}

func run(opts options) error {
	// Without HTTP/2 the servers are not exposed to the HTTP/2 Stream
	// Cancellation and Rapid Reset CVEs (GHSA-qppj-fm5r-hxr3, GHSA-4374-p667-p6c8).
	var tlsOpts []func(*tls.Config)
	if !opts.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}

	cfg := ctrl.GetConfigOrDie()
	// client-go's default (20 QPS) throttles a manager that moves hundreds
	// of Canaries at once; the flags default to what Flagger uses.
	cfg.QPS, cfg.Burst = opts.kubeAPIQPS, opts.kubeAPIBurst
	metricsOpts := metricsserver.Options{
		BindAddress:   opts.metricsAddr,
		SecureServing: opts.secureMetrics,
		TLSOpts:       tlsOpts,
	}
	if opts.secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsOpts,
		// Nothing reads managedFields from the cache (ownership is left to
		// server-side apply); stripping them keeps every cached Deployment,
		// Service and Canary smaller and cheaper to copy on each read.
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
		WebhookServer: webhook.NewServer(webhook.Options{
			Host:    opts.webhookHost,
			Port:    opts.webhookPort,
			CertDir: opts.webhookCertDir,
			TLSOpts: tlsOpts,
		}),
		HealthProbeBindAddress:  opts.probeAddr,
		PprofBindAddress:        opts.pprofAddr,
		LeaderElection:          opts.enableLeaderElection,
		LeaderElectionID:        "leader.mesh.sluice.dev",
		LeaderElectionNamespace: opts.leaderElectionNS,
		// The manager exits right after it stops, so the next leader need not
		// wait for the lease to expire.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return err
	}

	readyCheck := healthz.Ping
	if opts.enableWebhooks {
		if readyCheck, err = setupWebhooks(mgr, opts); err != nil {
			return err
		}
	}
	if err := setupControllers(mgr, opts); err != nil {
		return err
	}
	// +kubebuilder:scaffold:builder

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", readyCheck); err != nil {
		return err
	}

	setupLog.Info("Starting manager", "namespace", opts.namespace, "leaderElection", opts.enableLeaderElection)
	return mgr.Start(ctrl.SetupSignalHandler())
}
