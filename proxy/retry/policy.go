// Package retry decides whether a failed try may be tried again, and caps
// retries with a budget so that they cannot amplify an outage. It follows the
// rules of caddy's and Envoy's retries: a connection that could not be made is
// always safe to retry; a request that reached the server is retried only when
// its method is idempotent and a configured condition allows it.
package retry

import (
	"errors"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Conditions is a set of retry conditions.
type Conditions uint8

// The retry conditions of the configuration's retryOn.
const (
	ConnectFailure Conditions = 1 << iota // the connection could not be made
	Reset                                 // the connection broke before a response
	ServerError                           // any 5xx answer
	GatewayError                          // 502, 503, 504, or the try timed out
	Retriable4xx                          // 409 Conflict
)

// Policy is a compiled retry policy.
type Policy struct {
	// Attempts is the number of retries after the first try.
	Attempts int
	// PerTryTimeout bounds the wait for each try's response headers; 0 = none.
	PerTryTimeout time.Duration
	// On is the set of conditions that allow a retry.
	On Conditions
	// Budget caps retries; nil = no cap.
	Budget *Budget
}

// RetryError reports whether a try that failed with err may be retried.
// idempotent says the request may safely reach the server twice.
func (p *Policy) RetryError(err error, idempotent, perTryTimedOut bool) bool {
	switch {
	case IsConnectFailure(err):
		return p.On&ConnectFailure != 0
	case perTryTimedOut:
		return idempotent && p.On&(GatewayError|ServerError) != 0
	case isReset(err):
		return idempotent && p.On&Reset != 0
	}
	return false
}

// RetryStatus reports whether a response with this status may be retried.
func (p *Policy) RetryStatus(code int, idempotent bool) bool {
	if !idempotent {
		return false
	}
	switch {
	case code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		return p.On&(GatewayError|ServerError) != 0
	case code >= 500:
		return p.On&ServerError != 0
	case code == http.StatusConflict:
		return p.On&Retriable4xx != 0
	}
	return false
}

// IsConnectFailure reports whether err means the request never left: the
// dial failed, so even a POST may be sent again.
func IsConnectFailure(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// Idempotent reports whether a request may reach the server twice: its method
// is idempotent (RFC 9110) or it carries an Idempotency-Key.
func Idempotent(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return r.Header.Get("Idempotency-Key") != ""
}
