package servingcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"time"
)

// subject is what the serving certificate must be valid for.
type subject struct {
	DNSNames    []string
	IPAddresses []net.IP
}

// commonName is informational only (clients check the SANs); the first name reads best in `openssl x509` output.
func (s subject) commonName() string {
	if len(s.DNSNames) > 0 {
		return s.DNSNames[0]
	}
	if len(s.IPAddresses) > 0 {
		return s.IPAddresses[0].String()
	}
	return "sluice-webhook"
}

// matches reports whether cert carries exactly the wanted names, in any order.
func (s subject) matches(cert *x509.Certificate) bool {
	return sameStrings(s.DNSNames, cert.DNSNames) && sameStrings(ipStrings(s.IPAddresses), ipStrings(cert.IPAddresses))
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// keyPair is a certificate with its private key, parsed and PEM-encoded.
type keyPair struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
}

// validity is the time window of a new certificate. notBefore lies a little in the past so that a client whose
// clock is slightly behind still accepts a certificate issued a moment ago.
func validity(now time.Time, lifetime time.Duration) (notBefore, notAfter time.Time) {
	notBefore = now.Add(-5 * time.Minute)
	return notBefore, notBefore.Add(lifetime)
}

// newCA creates a self-signed CA valid from now for lifetime.
func newCA(now time.Time, lifetime time.Duration) (*keyPair, error) {
	notBefore, notAfter := validity(now, lifetime)
	template := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "sluice-webhook-ca", Organization: []string{"sluice"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	return sign(template, nil)
}

// newServingCert creates a serving certificate for s, signed by ca, valid from now for lifetime (never beyond the
// CA's own expiry, which clients would reject anyway).
func newServingCert(ca *keyPair, s subject, now time.Time, lifetime time.Duration) (*keyPair, error) {
	notBefore, notAfter := validity(now, lifetime)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	template := &x509.Certificate{
		Subject:     pkix.Name{CommonName: s.commonName(), Organization: []string{"sluice"}},
		DNSNames:    s.DNSNames,
		IPAddresses: s.IPAddresses,
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	return sign(template, ca)
}

// sign creates a fresh P-256 key and a certificate from template, signed by parent (self-signed when nil).
func sign(template *x509.Certificate, parent *keyPair) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	template.SerialNumber = serial

	issuer, signer := template, key
	if parent != nil {
		issuer, signer = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, issuer, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("create certificate %q: %w", template.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return &keyPair{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// parseKeyPair reads a PEM certificate (the first one when there are several) and its PEM EC private key.
func parseKeyPair(certPEM, keyPEM []byte) (*keyPair, error) {
	certs, err := parseCertificates(certPEM)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, fmt.Errorf("no PEM private key")
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	if !key.PublicKey.Equal(certs[0].PublicKey) {
		return nil, fmt.Errorf("private key does not belong to certificate %q", certs[0].Subject.CommonName)
	}
	first := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[0].Raw})
	return &keyPair{Cert: certs[0], Key: key, CertPEM: first, KeyPEM: keyPEM}, nil
}

// parseCertificates reads every PEM certificate in data; at least one must be there.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no PEM certificate")
	}
	return certs, nil
}

// renewAt is when cert should be replaced: after renewAtFraction of its life.
func renewAt(cert *x509.Certificate) time.Time {
	life := cert.NotAfter.Sub(cert.NotBefore)
	return cert.NotBefore.Add(time.Duration(float64(life) * renewAtFraction))
}

// describe names a certificate in logs and errors.
func describe(cert *x509.Certificate) string {
	names := append(slices.Clone(cert.DNSNames), ipStrings(cert.IPAddresses)...)
	return fmt.Sprintf("%q [%s] valid until %s", cert.Subject.CommonName, strings.Join(names, ","),
		cert.NotAfter.UTC().Format(time.RFC3339))
}
