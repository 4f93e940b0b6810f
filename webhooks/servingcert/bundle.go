package servingcert

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"
)

// Keys of the Secret. tls.crt, tls.key and ca.crt are the names cert-manager and kubernetes.io/tls Secrets use.
const (
	keyServingCert = "tls.crt"
	keyServingKey  = "tls.key"
	// keyCACert holds the current CA first, then any previous CA that has not expired yet: during a CA rotation
	// the API server keeps trusting replicas that still serve a certificate signed by the previous CA.
	keyCACert = "ca.crt"
	keyCAKey  = "ca.key"
)

// lifetimes of newly issued certificates.
type lifetimes struct {
	CA      time.Duration
	Serving time.Duration
}

// renewal is what the leader must do with the Secret's data.
type renewal struct {
	// Data is the complete new Secret data; nil when the current data is fine as it is.
	Data map[string][]byte
	// Reasons say what changed, for the log.
	Reasons []string
	// Next is when the data must be looked at again at the latest.
	Next time.Time
}

// renew decides from the Secret's current data (possibly empty or garbage) whether the CA or the serving certificate
// must be (re)issued for want at now, and returns the data to write.
func renew(data map[string][]byte, want subject, now time.Time, life lifetimes) (renewal, error) {
	var r renewal

	ca, caErr := parseKeyPair(data[keyCACert], data[keyCAKey])
	trusted := stillValid(data[keyCACert], now)
	switch {
	case caErr != nil:
		r.Reasons = append(r.Reasons, fmt.Sprintf("no usable CA (%v)", caErr))
	case !now.Before(renewAt(ca.Cert)):
		r.Reasons = append(r.Reasons, "CA renewal due: "+describe(ca.Cert))
	}
	if len(r.Reasons) > 0 {
		var err error
		if ca, err = newCA(now, life.CA); err != nil {
			return renewal{}, err
		}
		trusted = append([]*x509.Certificate{ca.Cert}, trusted...)
	}

	serving, servingErr := parseKeyPair(data[keyServingCert], data[keyServingKey])
	switch {
	case servingErr != nil:
		r.Reasons = append(r.Reasons, fmt.Sprintf("no usable serving certificate (%v)", servingErr))
	case serving.Cert.CheckSignatureFrom(ca.Cert) != nil:
		r.Reasons = append(r.Reasons, "serving certificate not signed by the current CA")
	case !want.matches(serving.Cert):
		r.Reasons = append(r.Reasons, "serving certificate names changed: "+describe(serving.Cert))
	case !now.Before(renewAt(serving.Cert)):
		r.Reasons = append(r.Reasons, "serving certificate renewal due: "+describe(serving.Cert))
	}
	if servingErr != nil || len(r.Reasons) > 0 {
		var err error
		if serving, err = newServingCert(ca, want, now, life.Serving); err != nil {
			return renewal{}, err
		}
	}

	newData := map[string][]byte{
		keyCACert:      encodeCertificates(trusted),
		keyCAKey:       ca.KeyPEM,
		keyServingCert: serving.CertPEM,
		keyServingKey:  serving.KeyPEM,
	}
	if !sameData(data, newData) {
		if len(r.Reasons) == 0 {
			r.Reasons = append(r.Reasons, "expired previous CA dropped from the trust bundle")
		}
		r.Data = newData
	}

	r.Next = earliest(renewAt(ca.Cert), renewAt(serving.Cert))
	for _, c := range trusted[1:] {
		r.Next = earliest(r.Next, c.NotAfter)
	}
	return r, nil
}

// stillValid returns the certificates in caPEM that have not expired at now, in order; the current CA, if valid,
// is first.
func stillValid(caPEM []byte, now time.Time) []*x509.Certificate {
	certs, err := parseCertificates(caPEM)
	if err != nil {
		return nil
	}
	var valid []*x509.Certificate
	for _, c := range certs {
		if now.Before(c.NotAfter) {
			valid = append(valid, c)
		}
	}
	return valid
}

func encodeCertificates(certs []*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}) // writing to a bytes.Buffer cannot fail
	}
	return buf.Bytes()
}

func sameData(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
