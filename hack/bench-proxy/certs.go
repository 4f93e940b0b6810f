package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	meshtls "github.com/sluicemesh/sluice/proxy/tls"
	"github.com/sluicemesh/sluice/proxy/tls/tlstest"
)

// meshCertificates issues a trust anchor and one leaf per identity with the
// test helpers of proxy/tls, written under dir, and returns the files per
// identity.
func meshCertificates(dir string, identities ...string) (files map[string]meshtls.Files, err error) {
	// tlstest reports failures through testing.TB.Fatal; here that becomes
	// a panic turned back into an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("make certificates: %v", r)
		}
	}()
	t := fatalAsPanic{}
	ca := tlstest.NewCA(t, "sluice-bench")
	files = map[string]meshtls.Files{}
	for i, id := range identities {
		leaf := ca.Issue(t, id, time.Now().Add(24*time.Hour))
		files[id] = tlstest.WriteFiles(t, filepath.Join(dir, fmt.Sprintf("identity-%d", i)), leaf, ca)
	}
	return files, nil
}

func tlsFlags(f meshtls.Files) []string {
	return []string{"--tls-cert", f.Cert, "--tls-key", f.Key, "--tls-trust-bundle", f.TrustBundle}
}

// fatalAsPanic is the part of testing.TB that tlstest uses. The embedded nil
// interface satisfies the rest, which tlstest never calls.
type fatalAsPanic struct{ testing.TB }

func (fatalAsPanic) Helper()                      {}
func (fatalAsPanic) Fatal(args ...any)            { panic(fmt.Sprint(args...)) }
func (fatalAsPanic) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }
