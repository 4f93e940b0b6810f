package routing

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/sluicemesh/sluice/proxy/config"
)

// FuzzRouteMatch checks the matchers on arbitrary paths and header values:
// no panic, an exact path match is also a prefix match, a prefix match starts
// with the prefix, and a header matched exactly also matches as a quoted
// regular expression.
func FuzzRouteMatch(f *testing.F) {
	for _, s := range [][3]string{
		{"/api", "/api/v1", "v1"}, {"/api", "/apis", ""}, {"/", "/", "x"}, {"/a/", "/a/b", "é"},
		{"/api", "/api", "a\x00b"}, {"/x", "", ".*"}, {"/%2F", "/%2F/x", "(("},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, prefix, path, value string) {
		exact := &config.RequestMatch{PathType: config.PathExact, Path: prefix}
		pfx := &config.RequestMatch{PathType: config.PathPrefix, Path: prefix}
		if MatchPath(exact, path) && !MatchPath(pfx, path) {
			t.Fatalf("%q matches Exact %q but not PathPrefix", path, prefix)
		}
		if MatchPath(pfx, path) && len(path) < len(prefix) {
			t.Fatalf("%q matched PathPrefix %q though shorter", path, prefix)
		}
		h := http.Header{"X-Test": {value}}
		exactHeader := &config.HeaderCondition{Name: "X-Test", Value: value}
		if !MatchHeader(exactHeader, h) {
			t.Fatalf("header %q does not match itself", value)
		}
		// A regular expression cannot hold invalid UTF-8; config validation
		// rejects such patterns.
		if utf8.ValidString(value) {
			reHeader := &config.HeaderCondition{Name: "X-Test", RE: regexp.MustCompile(`^(?:` + regexp.QuoteMeta(value) + `)$`)}
			if !MatchHeader(reHeader, h) {
				t.Fatalf("header %q does not match its quoted regular expression", value)
			}
		}
		// A whole request through the rule matcher must not panic either.
		r := &http.Request{Method: "GET", Host: "app:80", URL: &url.URL{Path: path}, Header: h}
		rule := &config.RouteRule{Matches: []config.RequestMatch{*exact, *pfx}}
		_ = Accepts(rule, r)
	})
}
