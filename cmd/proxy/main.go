// Command proxy runs Sluice's data-plane sidecar: the inbound listener
// (14143), the outbound listener (14140) and the admin port (14191). It is
// configured by flags and environment variables only, so it runs the same as
// an injected sidecar and as a local process next to a test backend.
//
// `proxy init` is the init container's job instead: it installs the iptables
// rules that redirect the pod's TCP through the proxy (see init.go).
//
// SIGTERM (or POST /shutdown on the admin port) drains it: the proxy turns
// unready, stops accepting connections, lets in-flight requests finish within
// the grace period, then exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/sluicemesh/sluice/proxy/config"
	meshtls "github.com/sluicemesh/sluice/proxy/tls"
)

// options are the proxy's flags; each has an environment variable, which the
// flag overrides.
type options struct {
	configPath   string
	pollInterval time.Duration
	inboundAddr  string
	outboundAddr string
	adminAddr    string
	grace        time.Duration
	logLevel     string
	tls          meshtls.Files
	tlsPoll      time.Duration
	// proxyUID is the uid `proxy init` exempted from redirection; -1 when
	// the proxy runs without redirection (explicit mode).
	proxyUID int
}

func parseOptions(args []string) (*options, error) {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	o := &options{}
	fs.StringVar(&o.configPath, "config", env("SLUICE_CONFIG", ""),
		"Path of the proxy configuration file, JSON or YAML (env SLUICE_CONFIG). Required.")
	fs.DurationVar(&o.pollInterval, "config-poll-interval", envDuration("SLUICE_CONFIG_POLL_INTERVAL", config.DefaultPollInterval),
		"How often the configuration file is checked for changes (env SLUICE_CONFIG_POLL_INTERVAL).")
	fs.StringVar(&o.inboundAddr, "inbound-addr", env("SLUICE_INBOUND_ADDR", "0.0.0.0:14143"),
		"Bind address of the inbound listener, traffic to the application (env SLUICE_INBOUND_ADDR). "+
			"A comma-separated list binds several; [::]:14143 takes IPv4 and IPv6 (proxy init --ipv6).")
	fs.StringVar(&o.outboundAddr, "outbound-addr", env("SLUICE_OUTBOUND_ADDR", "127.0.0.1:14140"),
		"Bind address of the outbound listener, traffic from the application (env SLUICE_OUTBOUND_ADDR). "+
			"A comma-separated list binds several: add [::1]:14140 when proxy init --ipv6 redirects IPv6 too.")
	fs.StringVar(&o.adminAddr, "admin-addr", env("SLUICE_ADMIN_ADDR", "0.0.0.0:14191"),
		"Bind address of the admin port: /metrics, /live, /ready, /config, /shutdown (env SLUICE_ADMIN_ADDR).")
	fs.DurationVar(&o.grace, "shutdown-grace", envDuration("SLUICE_SHUTDOWN_GRACE", 25*time.Second),
		"How long in-flight requests may take to finish after SIGTERM (env SLUICE_SHUTDOWN_GRACE). "+
			"Keep it below the pod's terminationGracePeriodSeconds.")
	fs.StringVar(&o.logLevel, "log-level", env("SLUICE_LOG_LEVEL", "info"),
		"Log level: debug, info, warn or error (env SLUICE_LOG_LEVEL).")
	fs.StringVar(&o.tls.Cert, "tls-cert", env("SLUICE_TLS_CERT", ""),
		"PEM certificate chain whose leaf carries the proxy's SPIFFE identity, for mTLS between proxies (env SLUICE_TLS_CERT). "+
			"Optional: without it the proxy speaks plaintext only and cannot reach meshed endpoints.")
	fs.StringVar(&o.tls.Key, "tls-key", env("SLUICE_TLS_KEY", ""),
		"PEM private key of --tls-cert (env SLUICE_TLS_KEY).")
	fs.StringVar(&o.tls.TrustBundle, "tls-trust-bundle", env("SLUICE_TLS_TRUST_BUNDLE", ""),
		"PEM trust anchors that verify peer proxies (env SLUICE_TLS_TRUST_BUNDLE).")
	fs.DurationVar(&o.tlsPoll, "tls-poll-interval", envDuration("SLUICE_TLS_POLL_INTERVAL", 10*time.Second),
		"How often the TLS files are checked for a renewed certificate (env SLUICE_TLS_POLL_INTERVAL).")
	fs.IntVar(&o.proxyUID, "proxy-uid", envInt("SLUICE_PROXY_UID", -1),
		"The uid `proxy init` exempted from redirection (its --proxy-uid); the proxy refuses to run as another user, whose connections would loop back into it. -1: no redirection, not checked (env SLUICE_PROXY_UID).")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	if o.configPath == "" {
		return nil, fmt.Errorf("--config (or SLUICE_CONFIG) is required")
	}
	if err := checkUID(o.proxyUID, os.Getuid()); err != nil {
		return nil, err
	}
	if set := countSet(o.tls.Cert, o.tls.Key, o.tls.TrustBundle); set != 0 && set != 3 {
		return nil, fmt.Errorf("--tls-cert, --tls-key and --tls-trust-bundle go together: set all three or none")
	}
	return o, nil
}

// checkUID refuses a proxy that does not run as the uid the redirect rules
// exempt: every connection it made to an endpoint would be redirected back
// to its own outbound listener, forever.
func checkUID(exempt, actual int) error {
	if exempt >= 0 && exempt != actual {
		return fmt.Errorf("--proxy-uid (SLUICE_PROXY_UID) is %d but the proxy runs as uid %d: "+
			"its own connections would be redirected back to it; run it as uid %d or fix the flag", exempt, actual, exempt)
	}
	return nil
}

func countSet(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv(name); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		fmt.Fprintf(os.Stderr, "ignoring %s=%q: not an integer\n", name, v)
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
		fmt.Fprintf(os.Stderr, "ignoring %s=%q: not a duration\n", name, v)
	}
	return def
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		os.Exit(runInit(os.Args[2:], os.Stdout, os.Stderr))
	}
	o, err := parseOptions(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "invalid --log-level %q\n", o.logLevel)
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, o, log); err != nil {
		log.Error("Proxy failed", "error", err)
		os.Exit(1)
	}
}
