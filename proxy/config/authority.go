package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// defaultClusterDomain is the DNS suffix of Service names when
// Outbound.ClusterDomain is empty.
const defaultClusterDomain = "cluster.local"

// CanonicalAuthority returns the lookup form of a Host header or :authority:
// lower case, with the port made explicit (80 when absent). It allocates only
// when it must add the port or lower the case.
func CanonicalAuthority(host string) string {
	if !hasPort(host) {
		host += ":80"
	}
	return strings.ToLower(host)
}

// hasPort reports whether host ends in :port, minding IPv6 brackets.
func hasPort(host string) bool {
	i := strings.LastIndexByte(host, ':')
	return i >= 0 && !strings.Contains(host[i:], "]")
}

// splitAuthority checks an authority written in the configuration.
func splitAuthority(a string) (string, int, error) {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "", 0, fmt.Errorf("authority must be host:port: %v", err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || host == "" {
		return "", 0, fmt.Errorf("authority %q must be host:port with a port between 1 and 65535", a)
	}
	return host, n, nil
}

// authorities lists every name that reaches the Service, canonical.
func (o *Outbound) authorities(s *Service) []string {
	domain := o.ClusterDomain
	if domain == "" {
		domain = defaultClusterDomain
	}
	port := ":" + strconv.Itoa(s.Port)
	fq := s.Name + "." + s.Namespace
	names := []string{fq + port, fq + ".svc" + port, fq + ".svc." + domain + port}
	if o.Namespace == "" || o.Namespace == s.Namespace {
		names = append(names, s.Name+port)
	}
	names = append(names, s.Aliases...)
	for _, ip := range s.ClusterIPs {
		names = append(names, net.JoinHostPort(ip, strconv.Itoa(s.Port)))
	}
	for i, n := range names {
		names[i] = CanonicalAuthority(n)
	}
	return names
}
