package authz

import (
	"testing"

	meshtls "github.com/sluicemesh/sluice/proxy/tls"
)

// FuzzNamespaceOf checks the allocation-free namespace reader against the
// full SPIFFE parser: both must accept the same identities and agree on
// their namespace, or a namespace rule could admit the wrong caller.
func FuzzNamespaceOf(f *testing.F) {
	for _, seed := range []string{
		"spiffe://cluster.local/ns/demo/sa/app",
		"spiffe://cluster.local/ns/a/sa/b/ns/c/sa/d",
		"spiffe://td/ns//sa/x",
		"spiffe://td/sa/x/ns/y",
		"spiffe://td/extra/ns/prod/sa/x",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		parsed, err := meshtls.ParseSPIFFEID(id)
		ns, ok := namespaceOf(id)
		if ok != (err == nil) || ns != parsed.Namespace {
			t.Errorf("namespaceOf(%q) = %q, %v; the SPIFFE parser says %q", id, ns, ok, parsed.Namespace)
		}
	})
}
