//go:build !linux

package listener

import (
	"net"
	"net/netip"
)

// originalDestination is Linux-only (netfilter): elsewhere every connection
// is explicit.
func originalDestination(net.Conn) (netip.AddrPort, bool) { return netip.AddrPort{}, false }
