package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func parse(args ...string) (options, error) {
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return parseOptions(fs, args)
}

func TestParseOptions_Defaults(t *testing.T) {
	t.Setenv(podNamespaceEnv, "")
	o, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	if !o.enableLeaderElection || !o.secureMetrics || o.webhookCertMode != certModeSelfManaged {
		t.Errorf("defaults must be leader election on, secure metrics, self-managed certificate: %+v", o)
	}
	if o.namespace != "sluice-system" || o.leaderElectionNS != "sluice-system" {
		t.Errorf("namespace %q, lease namespace %q: both must default to sluice-system", o.namespace, o.leaderElectionNS)
	}
}

func TestParseOptions_NamespaceFromDownwardAPI(t *testing.T) {
	t.Setenv(podNamespaceEnv, "platform")
	o, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	if o.namespace != "platform" || o.leaderElectionNS != "platform" {
		t.Errorf("namespace %q, lease namespace %q: want $POD_NAMESPACE for both", o.namespace, o.leaderElectionNS)
	}
}

func TestParseOptions_LocalRun(t *testing.T) {
	o, err := parse("--webhook-host=127.0.0.1", "--webhook-ip-sans=127.0.0.1, ::1", "--webhook-service-name=",
		"--leader-election-namespace=leases")
	if err != nil {
		t.Fatal(err)
	}
	if len(o.webhookIPSANs) != 2 || o.webhookIPSANs[0].String() != "127.0.0.1" || o.webhookIPSANs[1].String() != "::1" {
		t.Errorf("IP SANs = %v, want [127.0.0.1 ::1]", o.webhookIPSANs)
	}
	if o.leaderElectionNS != "leases" {
		t.Errorf("lease namespace = %q, want the flag's", o.leaderElectionNS)
	}
}

func TestParseOptions_RejectsBadValuesNamingTheFlag(t *testing.T) {
	for _, tt := range []struct{ arg, flag string }{
		{"--webhook-cert-mode=vault", "--webhook-cert-mode"},
		{"--webhook-ip-sans=localhost", "--webhook-ip-sans"},
		{"--webhook-port=70000", "--webhook-port"},
		{"--canary-workers=0", "--canary-workers"},
		{"--kube-api-qps=0", "--kube-api-qps"},
		{"--kube-api-burst=0", "--kube-api-burst"},
		{"--max-concurrent-canaries=-1", "--max-concurrent-canaries"},
	} {
		_, err := parse(tt.arg)
		if err == nil || !strings.Contains(err.Error(), tt.flag) {
			t.Errorf("%s: error %v, want one naming %s", tt.arg, err, tt.flag)
		}
	}
}
