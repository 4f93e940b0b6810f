package listener

import (
	"log/slog"
	"net/http"
)

// NewServer returns an http.Server for a listener handler that speaks
// HTTP/1.1 and cleartext HTTP/2 (prior knowledge, as gRPC clients use) on the
// same port.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.Default()
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	// HTTP/2 over TLS for connections the InboundListener terminated mTLS on.
	protocols.SetHTTP2(true)
	return &http.Server{
		Handler:   h,
		Protocols: &protocols,
		// Slow or idle clients must not hold connections forever; bodies
		// may take their time (uploads, streams).
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		// Transparent mode: the handlers route by where the client's
		// connection was going.
		ConnContext: withOriginalDestination,
	}
}
