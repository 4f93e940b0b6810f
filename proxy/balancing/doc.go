// Package balancing spreads requests across the endpoints of a backend. The
// default is power-of-two-choices over peak-EWMA latency, what linkerd2-proxy
// and Finagle use: pick two endpoints at random and send to the one whose
// latency estimate times outstanding requests is lower. It needs no global
// view, reacts to a slow endpoint within a few requests, and costs two random
// numbers and two atomic loads per pick. Round robin is the simple option.
package balancing
