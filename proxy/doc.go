// Package proxy is the home of Sluice's bundled data-plane sidecar. Its
// concerns (config model, listeners, routing, balancing, retries, circuit
// breaking, faults, rate limits, authorization, TLS, metrics, admin) each get a
// package of their own below this one; the proxy issue builds them.
package proxy
