package querytemplate

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// The builtin request-success-rate query of ARCHITECTURE.md, word for word.
const successRate = `sum(rate(sluice_requests_total{direction="inbound",namespace="{{ namespace }}",workload="{{ target }}",classification="success"}[{{ interval }}])) / sum(rate(sluice_requests_total{direction="inbound",namespace="{{ namespace }}",workload="{{ target }}"}[{{ interval }}])) * 100`

func TestParse_RendersTheBuiltinQuery(t *testing.T) {
	tmpl, err := Parse(successRate)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tmpl.Variables(), []string{"namespace", "target", "interval"}; !slices.Equal(got, want) {
		t.Errorf("variables %v, want %v", got, want)
	}
	got, err := tmpl.Render(map[string]string{"namespace": "shop", "target": "podinfo", "interval": "1m"})
	if err != nil {
		t.Fatal(err)
	}
	want := `sum(rate(sluice_requests_total{direction="inbound",namespace="shop",workload="podinfo",classification="success"}[1m])) / sum(rate(sluice_requests_total{direction="inbound",namespace="shop",workload="podinfo"}[1m])) * 100`
	if got != want {
		t.Errorf("rendered\n%s\nwant\n%s", got, want)
	}
}

func TestParse_AcceptsPlaceholdersWithOrWithoutBlanks(t *testing.T) {
	for _, s := range []string{"{{route}}", "{{ route }}", "{{\troute\n}}", `x{path="{{route}}"}`, "no variables at all", ""} {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}

func TestParse_RejectsMalformedTemplatesSayingWhere(t *testing.T) {
	tests := []struct {
		query      string
		wantOffset int
		wantMsg    string
	}{
		{query: `x{namespace="{{ namespace"}`, wantOffset: 13, wantMsg: "never closed"},
		{query: `x{namespace="{ namespace }}"}`, wantOffset: 25, wantMsg: "without a matching"},
		{query: `x{a="{{ }}"}`, wantOffset: 5, wantMsg: "is not a variable"},
		{query: `x{a="{{ name space }}"}`, wantOffset: 5, wantMsg: "is not a variable"},
		{query: `x{a="{{ .Namespace }}"}`, wantOffset: 5, wantMsg: "is not a variable"},
		{query: `x{{{ selector }}}`, wantOffset: 1, wantMsg: "is not a variable"},
		{query: `{{ a }} and {{ b`, wantOffset: 12, wantMsg: "never closed"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			_, err := Parse(tt.query)
			var syntaxErr *SyntaxError
			if !errors.As(err, &syntaxErr) {
				t.Fatalf("Parse(%q) = %v, want a SyntaxError", tt.query, err)
			}
			if syntaxErr.Offset != tt.wantOffset || !strings.Contains(syntaxErr.Msg, tt.wantMsg) {
				t.Errorf("got %q at %d, want %q at %d", syntaxErr.Msg, syntaxErr.Offset, tt.wantMsg, tt.wantOffset)
			}
		})
	}
}

func TestUnknown_ListsVariablesNeitherBuiltinNorGiven(t *testing.T) {
	tmpl, err := Parse(`x{ns="{{ namespace }}",route="{{ route }}",code="{{ code }}",again="{{ route }}"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := tmpl.Unknown(map[string]string{"code": "500"}); !slices.Equal(got, []string{"route"}) {
		t.Errorf("unknown %v, want [route]", got)
	}
	if _, err := tmpl.Render(map[string]string{"namespace": "a", "code": "500"}); err == nil || !strings.Contains(err.Error(), "route") {
		t.Errorf("render without route: %v, want an error naming route", err)
	}
}
