package listener

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/sluicemesh/sluice/proxy/metrics"
)

// CountingListener counts the connections a listener accepts and their
// bytes, as plaintext connections of direction d.
type CountingListener struct {
	net.Listener
	direction metrics.Direction
	metrics   *metrics.Recorder
}

// NewCountingListener wraps ln; rec may be nil.
func NewCountingListener(ln net.Listener, d metrics.Direction, rec *metrics.Recorder) *CountingListener {
	return &CountingListener{Listener: ln, direction: d, metrics: rec}
}

// Accept accepts and counts a connection.
func (l *CountingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countConn(c, l.direction, false, l.metrics), nil
}

// countedConn adds up the bytes through a connection and reports them once
// when it closes.
type countedConn struct {
	net.Conn
	direction     metrics.Direction
	tls           bool
	metrics       *metrics.Recorder
	read, written atomic.Int64
	closeOnce     sync.Once
}

func countConn(c net.Conn, d metrics.Direction, tls bool, rec *metrics.Recorder) net.Conn {
	if rec == nil {
		return c
	}
	rec.ConnectionOpened(d, tls)
	return &countedConn{Conn: c, direction: d, tls: tls, metrics: rec}
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.metrics.ConnectionClosed(c.direction, c.tls, c.read.Load(), c.written.Load()) })
	return err
}

// NetConn is the connection it counts.
func (c *countedConn) NetConn() net.Conn { return c.Conn }
