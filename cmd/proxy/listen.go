package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
)

// listenAll binds every address of a comma-separated list ("127.0.0.1:14140,[::1]:14140"
// for a dual-stack pod) and merges them into one listener.
func listenAll(addrs string) (net.Listener, error) {
	var lns []net.Listener
	for _, a := range strings.Split(addrs, ",") {
		ln, err := net.Listen("tcp", strings.TrimSpace(a))
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	if len(lns) == 1 {
		return lns[0], nil
	}
	return mergeListeners(lns), nil
}

// mergedListener accepts from several listeners at once.
type mergedListener struct {
	lns       []net.Listener
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
	errOnce   sync.Once
	err       error
}

func mergeListeners(lns []net.Listener) *mergedListener {
	m := &mergedListener{lns: lns, conns: make(chan net.Conn), done: make(chan struct{})}
	for _, ln := range lns {
		go m.acceptFrom(ln)
	}
	return m
}

func (m *mergedListener) acceptFrom(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.errOnce.Do(func() { m.err = fmt.Errorf("accept on %s: %w", ln.Addr(), err) })
			_ = m.Close()
			return
		}
		select {
		case m.conns <- c:
		case <-m.done:
			_ = c.Close()
			return
		}
	}
}

func (m *mergedListener) Accept() (net.Conn, error) {
	select {
	case c := <-m.conns:
		return c, nil
	case <-m.done:
		m.errOnce.Do(func() { m.err = net.ErrClosed })
		return nil, m.err
	}
}

func (m *mergedListener) Close() error {
	m.closeOnce.Do(func() {
		close(m.done)
		for _, ln := range m.lns {
			_ = ln.Close()
		}
	})
	return nil
}

// Addr is the first address; the log line names all of them.
func (m *mergedListener) Addr() net.Addr { return m.lns[0].Addr() }
