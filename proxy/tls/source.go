package tls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// Material is one loaded generation of certificate and trust anchors. It is
// immutable: a reload builds a new one and swaps it in.
type Material struct {
	// Certificate is the leaf chain and key, with Leaf parsed.
	Certificate *tls.Certificate
	// Identity is the SPIFFE URI SAN of the leaf.
	Identity string
	// Roots are the trust anchors peers' chains must lead to.
	Roots *x509.CertPool
}

// NotAfter is when the leaf certificate expires.
func (m *Material) NotAfter() time.Time { return m.Certificate.Leaf.NotAfter }

// Files names the PEM files the material is read from.
type Files struct {
	// Cert is the leaf certificate, followed by its intermediates.
	Cert string
	// Key is the leaf's private key.
	Key string
	// TrustBundle holds the trust anchors.
	TrustBundle string
}

// Source holds the current Material. The tls.Configs it hands out read it on
// every handshake through an atomic pointer, so a reload reaches the next
// handshake and established connections go on undisturbed.
type Source struct {
	files   Files
	current atomic.Pointer[Material]
	last    [3][]byte // file contents of the current material
	// OnLoad, when set, is called with each material loaded (for the expiry
	// metric). Set it before Load.
	OnLoad func(*Material)
	// Log receives reload outcomes. Default: slog.Default().
	Log *slog.Logger
}

// NewSource reads the files once; it fails when they do not make a valid
// SPIFFE certificate and trust bundle.
func NewSource(files Files, onLoad func(*Material), log *slog.Logger) (*Source, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Source{files: files, OnLoad: onLoad, Log: log}
	if _, err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Current returns the material in use.
func (s *Source) Current() *Material { return s.current.Load() }

// Reload reads the files again and swaps the new material in when they
// changed, reporting whether they did. Invalid files leave the current
// material in place.
func (s *Source) Reload() (bool, error) {
	var contents [3][]byte
	for i, path := range []string{s.files.Cert, s.files.Key, s.files.TrustBundle} {
		data, err := os.ReadFile(path)
		if err != nil {
			return false, fmt.Errorf("read TLS material: %w", err)
		}
		contents[i] = data
	}
	if s.current.Load() != nil && bytes.Equal(contents[0], s.last[0]) && bytes.Equal(contents[1], s.last[1]) && bytes.Equal(contents[2], s.last[2]) {
		return false, nil
	}
	m, err := parseMaterial(contents[0], contents[1], contents[2])
	if err != nil {
		return false, err
	}
	s.last = contents
	s.current.Store(m)
	if s.OnLoad != nil {
		s.OnLoad(m)
	}
	return true, nil
}

// Watch reloads the files every interval until ctx ends. Polling, not
// inotify: Kubernetes updates Secret volumes by swapping a symlink.
func (s *Source) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	lastErr := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := s.Reload()
		switch {
		case err != nil && err.Error() != lastErr:
			s.Log.Error("Cannot reload TLS certificate, keeping the current one", "error", err)
		case changed:
			m := s.Current()
			s.Log.Info("Reloaded TLS certificate", "identity", m.Identity, "notAfter", m.NotAfter())
		}
		lastErr = ""
		if err != nil {
			lastErr = err.Error()
		}
	}
}

func parseMaterial(certPEM, keyPEM, bundlePEM []byte) (*Material, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate and key: %w", err)
	}
	// X509KeyPair parses the leaf since Go 1.23.
	if cert.Leaf == nil {
		return nil, errors.New("TLS certificate: leaf not parsed")
	}
	id := IdentityOf(cert.Leaf)
	if _, err := ParseSPIFFEID(id); err != nil {
		return nil, fmt.Errorf("TLS certificate has no valid SPIFFE URI SAN: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(bundlePEM) {
		return nil, errors.New("trust bundle: no PEM certificate found")
	}
	return &Material{Certificate: &cert, Identity: id, Roots: roots}, nil
}
