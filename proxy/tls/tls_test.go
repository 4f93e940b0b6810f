package tls_test

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	meshtls "github.com/sluicemesh/sluice/proxy/tls"
	"github.com/sluicemesh/sluice/proxy/tls/tlstest"
)

func TestParseSPIFFEID(t *testing.T) {
	tests := []struct {
		in      string
		want    meshtls.SPIFFEID
		wantErr bool
	}{
		{in: "spiffe://cluster.local/ns/demo/sa/app", want: meshtls.SPIFFEID{TrustDomain: "cluster.local", Namespace: "demo", ServiceAccount: "app"}},
		{in: "https://cluster.local/ns/demo/sa/app", wantErr: true},
		{in: "spiffe://cluster.local/ns/demo", wantErr: true},
		{in: "spiffe://cluster.local/ns//sa/app", wantErr: true},
		{in: "spiffe://cluster.local/ns/demo/sa/app/extra", wantErr: true},
	}
	for _, tt := range tests {
		got, err := meshtls.ParseSPIFFEID(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSPIFFEID(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestSource_RejectsACertificateWithoutSPIFFEIdentity(t *testing.T) {
	ca := tlstest.NewCA(t, "mesh")
	files := tlstest.WriteFiles(t, t.TempDir(), ca.Issue(t, "https://example.com/app", time.Now().Add(time.Hour)), ca)
	if _, err := meshtls.NewSource(files, nil, nil); err == nil || !strings.Contains(err.Error(), "SPIFFE") {
		t.Errorf("NewSource error = %v, want one about the missing SPIFFE URI SAN", err)
	}
}

func TestSource_PeersFromAnotherTrustDomainAnchorAreRefused(t *testing.T) {
	ours, theirs := tlstest.NewCA(t, "ours"), tlstest.NewCA(t, "theirs")
	const id = "spiffe://cluster.local/ns/demo/sa/app"
	server := load(t, tlstest.WriteFiles(t, filepath.Join(t.TempDir(), "s"), theirs.Issue(t, id, time.Now().Add(time.Hour)), theirs))
	client := load(t, tlstest.WriteFiles(t, filepath.Join(t.TempDir(), "c"), ours.Issue(t, id, time.Now().Add(time.Hour)), ours))

	ln, err := tls.Listen("tcp", "127.0.0.1:0", server.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			_ = c.Close()
		}
	}()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), client.ClientConfig(id))
	if err == nil {
		conn.Close()
		t.Fatal("handshake succeeded with a server certificate from an unknown anchor")
	}
	if !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("error %v, want a verification failure", err)
	}
}

func load(t *testing.T, files meshtls.Files) *meshtls.Source {
	t.Helper()
	src, err := meshtls.NewSource(files, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}
