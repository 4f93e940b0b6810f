package listener

import (
	"errors"
	"net"
	"syscall"
)

// peerClosed says whether the endpoint closed (or reset) an idle
// connection, or sent something unasked, by peeking at its socket without
// blocking. The Transport learns this from a read it keeps pending on every
// idle connection; the fast path, which has none, asks before reusing a
// connection that sat idle long enough for an endpoint to time it out.
func peerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	err = raw.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Nothing to read is the only sign of a healthy idle connection.
		closed = !errors.Is(err, syscall.EAGAIN) || n > 0
		return true
	})
	return closed || err != nil
}
