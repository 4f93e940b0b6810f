package analysis

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
)

// roundTripper returns the HTTP transport for s: its own TLS settings (CA bundle, insecureSkipVerify) and
// credentials added to every request.
func (s Server) roundTripper() (http.RoundTripper, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if s.caPEM != "" || s.InsecureSkipVerify {
		tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.InsecureSkipVerify} //nolint:gosec // the user asked for it
		if s.caPEM != "" {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM([]byte(s.caPEM)) {
				return nil, errors.New("the CA bundle (key " + SecretKeyCA + ") holds no PEM certificate")
			}
			tlsConfig.RootCAs = pool
		}
		transport.TLSClientConfig = tlsConfig
	}
	if s.bearerToken == "" && s.username == "" {
		return transport, nil
	}
	return &authRoundTripper{next: transport, server: s}, nil
}

// authRoundTripper adds a Server's bearer token or basic auth to each request.
type authRoundTripper struct {
	next   http.RoundTripper
	server Server
}

func (a *authRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not modify the caller's request.
	req = req.Clone(req.Context())
	if a.server.bearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+a.server.bearerToken)
	} else {
		req.SetBasicAuth(a.server.username, a.server.password)
	}
	return a.next.RoundTrip(req)
}

// closeIdleConnections releases the idle connections of a transport made by roundTripper.
func closeIdleConnections(rt http.RoundTripper) {
	switch t := rt.(type) {
	case *http.Transport:
		t.CloseIdleConnections()
	case *authRoundTripper:
		closeIdleConnections(t.next)
	}
}
