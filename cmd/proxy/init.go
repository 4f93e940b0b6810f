package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sluicemesh/sluice/proxy/redirect"
)

// runInit is `proxy init`: it installs the iptables rules that redirect the
// pod's TCP through the proxy (see package redirect), as the init container
// does before the application starts. It returns the exit code.
func runInit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proxy init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := redirect.Options{}
	var skipIn, skipOut, iptables, ip6tables string
	var dryRun, ipv6 bool
	fs.IntVar(&o.ProxyUID, "proxy-uid", -1, "User id the proxy runs as; its own connections are not redirected. Required.")
	fs.IntVar(&o.InboundPort, "inbound-port", 14143, "Port of the proxy's inbound listener.")
	fs.IntVar(&o.OutboundPort, "outbound-port", 14140, "Port of the proxy's outbound listener.")
	fs.IntVar(&o.AdminPort, "admin-port", 14191, "Port of the proxy's admin listener, never redirected.")
	fs.StringVar(&skipIn, "skip-inbound-ports", "", "Comma-separated ports that reach the application directly (config.sluice.dev/skip-inbound-ports).")
	fs.StringVar(&skipOut, "skip-outbound-ports", "", "Comma-separated destination ports the application reaches directly (config.sluice.dev/skip-outbound-ports).")
	fs.StringVar(&iptables, "iptables", "iptables", "The iptables command to run (iptables-nft, iptables-legacy, ...).")
	fs.BoolVar(&ipv6, "ipv6", false, "Also redirect IPv6 (dual-stack pods), with ip6tables. The proxy must then listen on IPv6 too: "+
		"--inbound-addr [::]:14143 --outbound-addr 127.0.0.1:14140,[::1]:14140.")
	fs.StringVar(&ip6tables, "ip6tables", "ip6tables", "The ip6tables command to run with --ipv6.")
	fs.BoolVar(&dryRun, "dry-run", false, "Print the iptables commands instead of running them.")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "proxy init: unexpected arguments %v\n", fs.Args())
		return 2
	}
	var err error
	if o.SkipInboundPorts, err = redirect.ParsePorts(skipIn); err != nil {
		fmt.Fprintf(stderr, "proxy init: --skip-inbound-ports: %v\n", err)
		return 2
	}
	if o.SkipOutboundPorts, err = redirect.ParsePorts(skipOut); err != nil {
		fmt.Fprintf(stderr, "proxy init: --skip-outbound-ports: %v\n", err)
		return 2
	}
	families := []struct {
		command string
		ipv6    bool
	}{{iptables, false}}
	if ipv6 {
		families = append(families, struct {
			command string
			ipv6    bool
		}{ip6tables, true})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, f := range families {
		o.IPv6 = f.ipv6
		steps, err := redirect.Plan(o)
		if err != nil {
			fmt.Fprintf(stderr, "proxy init: %v\n", err)
			return 2
		}
		if dryRun {
			for _, s := range steps {
				fmt.Fprintln(stdout, s)
			}
			continue
		}
		run, err := redirect.Exec(f.command)
		if err != nil {
			fmt.Fprintf(stderr, "proxy init: %v\n", err)
			return 1
		}
		if err := redirect.Apply(ctx, steps, run); err != nil {
			fmt.Fprintf(stderr, "proxy init: %v\n", err)
			return 1
		}
	}
	if dryRun {
		return 0
	}
	fmt.Fprintf(stdout, "proxy init: redirected inbound TCP to :%d and outbound TCP to :%d (proxy uid %d)\n", o.InboundPort, o.OutboundPort, o.ProxyUID)
	return 0
}
