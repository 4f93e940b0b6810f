// Package redirect is `proxy init`: the iptables rules that send a pod's TCP
// through its proxy. Inbound connections (arriving at the pod) are redirected
// to the inbound listener, outbound ones (leaving the application) to the
// outbound listener; the listeners recover where the connection was going
// with SO_ORIGINAL_DST.
//
// All rules live in Sluice's own chains of the nat table, jumped to once from
// PREROUTING and OUTPUT. Applying flushes and rebuilds those chains, so it is
// idempotent: a restarted init container leaves the same rules, never
// duplicates. IPv4 rules go to iptables, IPv6 rules (the same, with ::1 as
// loopback) to ip6tables.
package redirect

import (
	"fmt"
	"strconv"
	"strings"
)

// Sluice's chains in the nat table.
const (
	// ChainInbound decides which connections arriving at the pod go to the
	// inbound listener; PREROUTING jumps to it.
	ChainInbound = "SLUICE_INBOUND"
	// ChainInboundRedirect redirects to the inbound listener.
	ChainInboundRedirect = "SLUICE_INBOUND_REDIRECT"
	// ChainOutbound decides which connections the pod opens go to the
	// outbound listener; OUTPUT jumps to it.
	ChainOutbound = "SLUICE_OUTBOUND"
	// ChainOutboundRedirect redirects to the outbound listener.
	ChainOutboundRedirect = "SLUICE_OUTBOUND_REDIRECT"
)

// Options are what proxy init redirects and what it leaves alone.
type Options struct {
	// ProxyUID is the user the proxy runs as. Its own connections are never
	// redirected, or the proxy would loop into itself. Required.
	ProxyUID int
	// InboundPort is the proxy's inbound listener (14143).
	InboundPort int
	// OutboundPort is the proxy's outbound listener (14140).
	OutboundPort int
	// AdminPort is the proxy's admin port (14191); connections to it reach
	// the proxy directly, so probes and Prometheus see the proxy itself.
	AdminPort int
	// SkipInboundPorts reach the application directly, not through the
	// proxy (annotation config.sluice.dev/skip-inbound-ports).
	SkipInboundPorts []int
	// SkipOutboundPorts are destination ports the application reaches
	// directly (annotation config.sluice.dev/skip-outbound-ports).
	SkipOutboundPorts []int
	// IPv6 plans the rules for ip6tables instead of iptables.
	IPv6 bool
}

// Validate checks the ports and the uid.
func (o Options) Validate() error {
	if o.ProxyUID < 0 {
		return fmt.Errorf("the proxy uid must be set (>= 0), got %d", o.ProxyUID)
	}
	for name, p := range map[string]int{"inbound": o.InboundPort, "outbound": o.OutboundPort, "admin": o.AdminPort} {
		if p < 1 || p > 65535 {
			return fmt.Errorf("%s port %d is not between 1 and 65535", name, p)
		}
	}
	for _, list := range [][]int{o.SkipInboundPorts, o.SkipOutboundPorts} {
		for _, p := range list {
			if p < 1 || p > 65535 {
				return fmt.Errorf("skipped port %d is not between 1 and 65535", p)
			}
		}
	}
	return nil
}

// ParsePorts reads a comma-separated port list as annotations write it
// ("22, 9090"); empty means none.
func ParsePorts(s string) ([]int, error) {
	var ports []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := strconv.Atoi(f)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("port %q is not a number between 1 and 65535", f)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// StepKind says how a step is applied.
type StepKind int

const (
	// Always: run the command.
	Always StepKind = iota
	// CreateChain: run it (iptables -N) unless the chain exists.
	CreateChain
	// EnsureRule: append the rule (iptables -A) unless it is present
	// (iptables -C), so the jumps into Sluice's chains exist exactly once.
	EnsureRule
)

// Step is one iptables invocation of the plan.
type Step struct {
	Kind StepKind
	// Command is iptables or ip6tables.
	Command string
	// Args follow the iptables command, e.g. ["-t", "nat", "-F", "SLUICE_INBOUND"].
	Args []string
}

// String is the step as a shell line, with a comment when it is
// conditional: what --dry-run prints.
func (s Step) String() string {
	line := s.Command + " " + strings.Join(s.Args, " ")
	switch s.Kind {
	case CreateChain:
		line += "  # unless the chain exists"
	case EnsureRule:
		line += "  # unless present (iptables -C)"
	}
	return line
}

// Plan returns the steps that install the rules, in order: create and flush
// Sluice's chains, fill them, then make sure PREROUTING and OUTPUT jump to
// them. Within a chain the first match wins, so every exception (RETURN)
// comes before the redirect.
func Plan(o Options) ([]Step, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	command := "iptables"
	if o.IPv6 {
		command = "ip6tables"
	}
	nat := func(kind StepKind, args ...string) Step {
		return Step{Kind: kind, Command: command, Args: append([]string{"-t", "nat"}, args...)}
	}
	var steps []Step
	chains := []string{ChainInboundRedirect, ChainInbound, ChainOutboundRedirect, ChainOutbound}
	for _, c := range chains {
		steps = append(steps, nat(CreateChain, "-N", c), nat(Always, "-F", c))
	}
	port := strconv.Itoa

	steps = append(steps, nat(Always, "-A", ChainInboundRedirect, "-p", "tcp", "-j", "REDIRECT", "--to-ports", port(o.InboundPort)))
	// The admin port answers probes and scrapes as the proxy itself.
	steps = append(steps, nat(Always, "-A", ChainInbound, "-p", "tcp", "--dport", port(o.AdminPort), "-j", "RETURN"))
	// The outbound port is the application's alone: redirected, another pod
	// would reach it through the inbound listener (which forwards to
	// 127.0.0.1:<port>) and borrow this pod's identity. Left alone, it meets
	// a listener bound to loopback and is refused.
	steps = append(steps, nat(Always, "-A", ChainInbound, "-p", "tcp", "--dport", port(o.OutboundPort), "-j", "RETURN"))
	for _, p := range o.SkipInboundPorts {
		steps = append(steps, nat(Always, "-A", ChainInbound, "-p", "tcp", "--dport", port(p), "-j", "RETURN"))
	}
	steps = append(steps, nat(Always, "-A", ChainInbound, "-p", "tcp", "-j", ChainInboundRedirect))

	steps = append(steps, nat(Always, "-A", ChainOutboundRedirect, "-p", "tcp", "-j", "REDIRECT", "--to-ports", port(o.OutboundPort)))
	// The proxy's own connections go where it sends them.
	steps = append(steps, nat(Always, "-A", ChainOutbound, "-m", "owner", "--uid-owner", port(o.ProxyUID), "-j", "RETURN"))
	// Loopback stays in the pod: the application talking to itself, to the
	// proxy's explicit ports, or to other containers of the pod. Pod IPs
	// are not loopback (even when the route is over lo), so a call to the
	// pod's own IP goes through the outbound listener.
	loopback := "127.0.0.0/8"
	if o.IPv6 {
		loopback = "::1/128"
	}
	steps = append(steps, nat(Always, "-A", ChainOutbound, "-d", loopback, "-j", "RETURN"))
	for _, p := range o.SkipOutboundPorts {
		steps = append(steps, nat(Always, "-A", ChainOutbound, "-p", "tcp", "--dport", port(p), "-j", "RETURN"))
	}
	steps = append(steps, nat(Always, "-A", ChainOutbound, "-p", "tcp", "-j", ChainOutboundRedirect))

	steps = append(steps,
		nat(EnsureRule, "-A", "PREROUTING", "-p", "tcp", "-j", ChainInbound),
		nat(EnsureRule, "-A", "OUTPUT", "-p", "tcp", "-j", ChainOutbound),
	)
	return steps, nil
}
