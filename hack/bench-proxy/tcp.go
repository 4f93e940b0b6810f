package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// tcpEstablished is the state code of an established connection in
// /proc/net/tcp.
const tcpEstablished = "01"

// countEstablishedTo counts the established IPv4 connections whose remote
// port is port in /proc/net/tcp text: after a run, the keep-alive pool the
// proxies hold to the backend.
func countEstablishedTo(text string, port int) (int, error) {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st ...
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		_, remotePort, ok := strings.Cut(f[2], ":")
		if !ok {
			return 0, fmt.Errorf("/proc/net/tcp: remote address %q", f[2])
		}
		p, err := strconv.ParseUint(remotePort, 16, 16)
		if err != nil {
			return 0, fmt.Errorf("/proc/net/tcp: remote port %q: %w", remotePort, err)
		}
		if int(p) == port && f[3] == tcpEstablished {
			n++
		}
	}
	return n, sc.Err()
}

// upstreamConnections counts established connections to the backend.
func upstreamConnections(backend string) (int, error) {
	_, portText, ok := strings.Cut(backend, ":")
	if !ok {
		return 0, fmt.Errorf("backend address %q has no port", backend)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return 0, err
	}
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0, err
	}
	return countEstablishedTo(string(data), port)
}
