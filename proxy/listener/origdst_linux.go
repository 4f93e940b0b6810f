package listener

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// soOriginalDst is SO_ORIGINAL_DST (IPv4, level SOL_IP) and
// IP6T_SO_ORIGINAL_DST (IPv6, level SOL_IPV6): netfilter's record of where a
// connection was going before a REDIRECT rule sent it to the proxy.
const soOriginalDst = 80

// originalDestination returns where a redirected connection was addressed.
// ok is false when the connection is not TCP or netfilter has no record of
// it (no NAT on this connection: explicit mode).
func originalDestination(c net.Conn) (dst netip.AddrPort, ok bool) {
	tc, isTCP := c.(*net.TCPConn)
	if !isTCP {
		return netip.AddrPort{}, false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, false
	}
	ipv6 := false
	if la, isAddr := tc.LocalAddr().(*net.TCPAddr); isAddr && la.IP.To4() == nil {
		ipv6 = true
	}
	// An IPv4 connection on a dual-stack socket ([::]:port) may answer
	// either option depending on the kernel: ask the likely one first.
	first, second := originalDestination4, originalDestination6
	if ipv6 {
		first, second = second, first
	}
	_ = raw.Control(func(fd uintptr) {
		if dst, ok = first(int(fd)); !ok {
			dst, ok = second(int(fd))
		}
	})
	return dst, ok
}

// originalDestination4 reads a struct sockaddr_in. The kernel fills as many
// bytes as the option buffer has room for; IPv6Mreq is a 20-byte buffer the
// syscall package can read an option into.
func originalDestination4(fd int) (netip.AddrPort, bool) {
	m, err := syscall.GetsockoptIPv6Mreq(fd, syscall.SOL_IP, soOriginalDst)
	if err != nil {
		return netip.AddrPort{}, false
	}
	b := m.Multiaddr // sa_family(2) port(2, big endian) addr(4) zero(8)
	port := binary.BigEndian.Uint16(b[2:4])
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port), true
}

// originalDestination6 reads a struct sockaddr_in6 (28 bytes) into the
// 32-byte IPv6MTUInfo, whose first field is exactly a sockaddr_in6.
func originalDestination6(fd int) (netip.AddrPort, bool) {
	info, err := syscall.GetsockoptIPv6MTUInfo(fd, syscall.SOL_IPV6, soOriginalDst)
	if err != nil {
		return netip.AddrPort{}, false
	}
	sa := info.Addr
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
	return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), port), true
}
