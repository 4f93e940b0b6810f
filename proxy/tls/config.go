package tls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// ALPN protocol between proxies: HTTP/2 only.
const alpnH2 = "h2"

// ServerConfig is the inbound listener's mTLS configuration: it presents the
// current certificate, requires a client certificate, and verifies it against
// the current trust anchors. Which caller may do what is authorization's
// business, not the handshake's.
func (s *Source) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{alpnH2, "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.Current().Certificate, nil
		},
		// The chain is verified below, against trust anchors that can change
		// at any time; ClientCAs would freeze them.
		ClientAuth: tls.RequireAnyClientCert,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			_, err := s.verify(raw, x509.ExtKeyUsageClientAuth)
			return err
		},
	}
}

// ClientConfig is the mTLS configuration for dialling an endpoint whose proxy
// must present identity: it presents the current certificate, verifies the
// server's chain against the current trust anchors, and requires the
// server's SPIFFE URI SAN to be exactly identity.
func (s *Source) ClientConfig(identity string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{alpnH2},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return s.Current().Certificate, nil
		},
		// Host names mean nothing between proxies: the identity is checked
		// instead, in VerifyPeerCertificate, which still runs.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			got, err := s.verify(raw, x509.ExtKeyUsageServerAuth)
			if err != nil {
				return err
			}
			if got != identity {
				return fmt.Errorf("server identity %q, want %q", got, identity)
			}
			return nil
		},
	}
}

// verify checks a peer's chain against the current trust anchors and returns
// the leaf's SPIFFE identity.
func (s *Source) verify(raw [][]byte, usage x509.ExtKeyUsage) (string, error) {
	if len(raw) == 0 {
		return "", errors.New("peer sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, der := range raw {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return "", fmt.Errorf("peer certificate: %w", err)
		}
		certs[i] = c
	}
	opts := x509.VerifyOptions{
		Roots:         s.Current().Roots,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{usage},
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return "", fmt.Errorf("peer certificate: %w", err)
	}
	id := IdentityOf(certs[0])
	if id == "" {
		return "", errors.New("peer certificate has no SPIFFE URI SAN")
	}
	return id, nil
}
