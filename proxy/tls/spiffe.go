// Package tls is the proxy's identity: its X.509 certificate, whose URI SAN is
// the SPIFFE ID spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>,
// the trust anchors that verify its peers, and the tls.Configs that use them
// for mTLS between proxies. Certificates come from files for now (the control
// plane will issue them later) and are reloaded when the files change, without
// touching established connections.
package tls

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
)

// SPIFFEID is a parsed SPIFFE identity.
type SPIFFEID struct {
	TrustDomain    string
	Namespace      string
	ServiceAccount string
}

// String is the URI form.
func (id SPIFFEID) String() string {
	return "spiffe://" + id.TrustDomain + "/ns/" + id.Namespace + "/sa/" + id.ServiceAccount
}

// ParseSPIFFEID parses spiffe://<trust-domain>/ns/<namespace>/sa/<sa>.
func ParseSPIFFEID(uri string) (SPIFFEID, error) {
	rest, ok := strings.CutPrefix(uri, "spiffe://")
	if !ok {
		return SPIFFEID{}, fmt.Errorf("identity %q: not a spiffe:// URI", uri)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 5 || parts[0] == "" || parts[1] != "ns" || parts[2] == "" || parts[3] != "sa" || parts[4] == "" {
		return SPIFFEID{}, fmt.Errorf("identity %q: want spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>", uri)
	}
	return SPIFFEID{TrustDomain: parts[0], Namespace: parts[2], ServiceAccount: parts[4]}, nil
}

// IdentityOf returns the SPIFFE URI SAN of a certificate, or "" when it has
// none.
func IdentityOf(cert *x509.Certificate) string {
	for _, u := range cert.URIs {
		if u.Scheme == "spiffe" {
			return u.String()
		}
	}
	return ""
}

type peerKey struct{}

// WithPeer records the verified identity of the peer that sent a request.
func WithPeer(ctx context.Context, identity string) context.Context {
	return context.WithValue(ctx, peerKey{}, identity)
}

// PeerFrom returns the verified identity of the peer that sent the request
// of ctx: the SPIFFE URI of its certificate, or "" for plaintext (an unmeshed
// caller).
func PeerFrom(ctx context.Context) string {
	id, _ := ctx.Value(peerKey{}).(string)
	return id
}
