package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
)

// certMode says who provides the admission webhooks' serving certificate.
type certMode string

const (
	// certModeSelfManaged: the manager issues and rotates its own certificate,
	// stores it in a Secret and patches caBundle (plain kustomize installs and
	// local runs: no cert-manager needed).
	certModeSelfManaged certMode = "self-managed"
	// certModeExternal: cert-manager or OLM mounts the certificate into the
	// cert dir; the manager only serves it.
	certModeExternal certMode = "external"
)

// options are the manager's flags. Every component must run from flags and env
// alone, so that a local run needs no in-cluster files.
type options struct {
	metricsAddr          string
	secureMetrics        bool
	probeAddr            string
	pprofAddr            string
	enableLeaderElection bool
	leaderElectionNS     string
	namespace            string
	enableHTTP2          bool

	enableWebhooks     bool
	webhookHost        string
	webhookPort        int
	webhookCertDir     string
	webhookCertMode    certMode
	webhookCertSecret  string
	webhookServiceName string
	webhookIPSANs      []net.IP
	mutatingWebhook    string
	validatingWebhook  string

	metricsServer string

	// selectorLabels are the pod label keys rewritten for a Canary's primary.
	selectorLabels []string
	// maxConcurrentCanaries limits the Canaries running a revision at once;
	// 0 is no limit.
	maxConcurrentCanaries int
	// canaryWorkers is how many Canaries are reconciled in parallel.
	canaryWorkers int

	// kubeAPIQPS and kubeAPIBurst limit the manager's API server client.
	kubeAPIQPS   float32
	kubeAPIBurst int
}

// podNamespaceEnv is set from the downward API in config/manager/manager.yaml.
const podNamespaceEnv = "POD_NAMESPACE"

func parseOptions(fs *flag.FlagSet, args []string) (options, error) {
	var o options
	var certModeFlag, ipSANs string
	var qps float64
	defaultNS := os.Getenv(podNamespaceEnv)
	if defaultNS == "" {
		defaultNS = "sluice-system"
	}

	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8443",
		"Address the metrics endpoint binds to; ':8080' for plain HTTP with --metrics-secure=false, '0' disables it.")
	fs.BoolVar(&o.secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS, allowing only authenticated and authorized callers (TokenReview/SubjectAccessReview).")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "0", "Address Go's /debug/pprof profiles are served on, to find where the manager spends its time; \"0\" disables them.")
	fs.BoolVar(&o.enableLeaderElection, "leader-elect", true,
		"Elect a leader so only one manager replica reconciles at a time.")
	fs.StringVar(&o.leaderElectionNS, "leader-election-namespace", "",
		"Namespace of the leader election Lease; defaults to --namespace.")
	fs.StringVar(&o.namespace, "namespace", defaultNS,
		"Namespace Sluice runs in (its Secrets, Lease and control plane); defaults to $POD_NAMESPACE, else sluice-system.")
	fs.BoolVar(&o.enableHTTP2, "enable-http2", false,
		"Serve webhooks and metrics over HTTP/2; off by default because of the HTTP/2 rapid reset CVEs.")

	fs.BoolVar(&o.enableWebhooks, "enable-webhooks", true, "Serve the admission webhooks.")
	fs.StringVar(&o.webhookHost, "webhook-host", "", "Address the webhook server binds to (empty: all).")
	fs.IntVar(&o.webhookPort, "webhook-port", 9443, "Port of the webhook server.")
	fs.StringVar(&o.webhookCertDir, "webhook-cert-dir", "/tmp/k8s-webhook-server/serving-certs",
		"Directory holding tls.crt and tls.key of the webhook server (where OLM and cert-manager mount them).")
	fs.StringVar(&certModeFlag, "webhook-cert-mode", string(certModeSelfManaged),
		"Who provides the webhook certificate: self-managed (issued, rotated and injected by the manager) or external (cert-manager, OLM).")
	fs.StringVar(&o.webhookCertSecret, "webhook-cert-secret", "sluice-webhook-server-cert",
		"Secret in --namespace that keeps the self-managed webhook certificate.")
	fs.StringVar(&o.webhookServiceName, "webhook-service-name", "sluice-webhook-service",
		"Service in front of the webhook server; its DNS names go into the self-managed certificate. Empty for a local run whose webhooks are registered by URL.")
	fs.StringVar(&ipSANs, "webhook-ip-sans", "",
		"Comma-separated IP addresses to add to the self-managed certificate (local runs register webhooks by URL on 127.0.0.1).")
	fs.StringVar(&o.mutatingWebhook, "mutating-webhook-configuration", "sluice-mutating-webhook-configuration",
		"MutatingWebhookConfiguration whose caBundle the manager keeps current.")
	fs.StringVar(&o.validatingWebhook, "validating-webhook-configuration", "sluice-validating-webhook-configuration",
		"ValidatingWebhookConfiguration whose caBundle the manager keeps current.")

	fs.StringVar(&o.metricsServer, "metrics-server", "",
		"Prometheus address for canary analysis when neither the Canary nor the Mesh names one.")

	var selectorLabels string
	fs.StringVar(&selectorLabels, "selector-labels", "app,name,app.kubernetes.io/name",
		"Comma-separated pod label keys, in order of preference, that select a Canary target's pods; the first found is rewritten to <value>-primary for the primary.")
	fs.IntVar(&o.maxConcurrentCanaries, "max-concurrent-canaries", 0,
		"How many Canaries may run a revision at once; the others wait in phase Queued. 0: no limit.")
	fs.Float64Var(&qps, "kube-api-qps", 100, "Requests per second the manager may send to the API server.")
	fs.IntVar(&o.kubeAPIBurst, "kube-api-burst", 250, "Requests the manager may send to the API server in a burst above --kube-api-qps.")
	fs.IntVar(&o.canaryWorkers, "canary-workers", 4,
		"How many Canaries are reconciled in parallel (each pass waits on the API server, Prometheus and webhooks).")

	if err := fs.Parse(args); err != nil {
		return o, err
	}

	o.webhookCertMode = certMode(certModeFlag)
	switch o.webhookCertMode {
	case certModeSelfManaged, certModeExternal:
	default:
		return o, fmt.Errorf("--webhook-cert-mode: %q is neither %q nor %q", certModeFlag, certModeSelfManaged, certModeExternal)
	}
	for _, s := range strings.Split(ipSANs, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		ip := net.ParseIP(s)
		if ip == nil {
			return o, fmt.Errorf("--webhook-ip-sans: %q is not an IP address", s)
		}
		o.webhookIPSANs = append(o.webhookIPSANs, ip)
	}
	for _, l := range strings.Split(selectorLabels, ",") {
		if l = strings.TrimSpace(l); l != "" {
			o.selectorLabels = append(o.selectorLabels, l)
		}
	}
	if len(o.selectorLabels) == 0 {
		return o, fmt.Errorf("--selector-labels: at least one label key is needed")
	}
	if o.maxConcurrentCanaries < 0 {
		return o, fmt.Errorf("--max-concurrent-canaries: %d is negative", o.maxConcurrentCanaries)
	}
	if qps <= 0 || o.kubeAPIBurst < 1 {
		return o, fmt.Errorf("--kube-api-qps %v and --kube-api-burst %d must both be positive", qps, o.kubeAPIBurst)
	}
	o.kubeAPIQPS = float32(qps)
	if o.canaryWorkers < 1 {
		return o, fmt.Errorf("--canary-workers: %d is below 1", o.canaryWorkers)
	}
	if o.webhookPort < 1 || o.webhookPort > 65535 {
		return o, fmt.Errorf("--webhook-port: %d is outside 1..65535", o.webhookPort)
	}
	if o.leaderElectionNS == "" {
		o.leaderElectionNS = o.namespace
	}
	return o, nil
}
