// Package querytemplate is the grammar of Sluice's metric query templates: PromQL text with `{{ name }}`
// placeholders, e.g. `rate(x{namespace="{{ namespace }}"}[{{ interval }}])`.
//
// A placeholder is `{{`, optional blanks, an identifier ([a-zA-Z_][a-zA-Z0-9_]*), optional blanks and `}}`,
// where `}}` is the first one after `{{` (the same reading as the CRD's CEL rule, so both agree on what a
// variable is). A `{{` without `}}`, a `}}` without `{{` and anything other than one identifier between them are
// errors. There is no escaping: PromQL itself never needs `{{` or `}}`.
package querytemplate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Builtin variables, set for every Canary metric.
const (
	VarNamespace = "namespace" // the Canary's namespace
	VarTarget    = "target"    // the target workload's name
	VarService   = "service"   // the apex Service's name
	VarInterval  = "interval"  // the metric's interval, as a Prometheus duration
)

// Builtins are the variables every query may use.
var Builtins = []string{VarNamespace, VarTarget, VarService, VarInterval}

var identifier = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Template is a parsed query template.
type Template struct {
	// parts alternate literal text and variable names: even indexes are text, odd ones variables.
	parts []string
}

// SyntaxError says where a template is malformed. Offset is in bytes from the start of the template.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("at offset %d: %s", e.Offset, e.Msg) }

// Parse reads a query template.
func Parse(s string) (*Template, error) {
	t := &Template{}
	rest, offset := s, 0
	for {
		open := strings.Index(rest, "{{")
		text := rest
		if open >= 0 {
			text = rest[:open]
		}
		if i := strings.Index(text, "}}"); i >= 0 {
			return nil, &SyntaxError{Offset: offset + i, Msg: "}} without a matching {{"}
		}
		t.parts = append(t.parts, text)
		if open < 0 {
			return t, nil
		}
		body := rest[open+2:]
		end := strings.Index(body, "}}")
		if end < 0 {
			return nil, &SyntaxError{Offset: offset + open, Msg: "{{ is never closed with }}"}
		}
		name := strings.TrimSpace(body[:end])
		if !identifier.MatchString(name) {
			return nil, &SyntaxError{Offset: offset + open,
				Msg: fmt.Sprintf("{{%s}} is not a variable: write {{ name }} with a name of letters, digits and _", body[:end])}
		}
		t.parts = append(t.parts, name)
		consumed := open + 2 + end + 2
		rest, offset = rest[consumed:], offset+consumed
	}
}

// Variables returns the distinct variable names the template uses, in order of first use.
func (t *Template) Variables() []string {
	var names []string
	for i := 1; i < len(t.parts); i += 2 {
		if !slices.Contains(names, t.parts[i]) {
			names = append(names, t.parts[i])
		}
	}
	return names
}

// Render replaces every variable by its value; a variable without a value is an error.
func (t *Template) Render(values map[string]string) (string, error) {
	var b strings.Builder
	for i, part := range t.parts {
		if i%2 == 0 {
			b.WriteString(part)
			continue
		}
		v, ok := values[part]
		if !ok {
			return "", fmt.Errorf("variable %q has no value", part)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// Unknown returns the variables of t that are neither builtin nor in known, in order of first use.
func (t *Template) Unknown(known map[string]string) []string {
	var unknown []string
	for _, name := range t.Variables() {
		if _, ok := known[name]; !ok && !slices.Contains(Builtins, name) {
			unknown = append(unknown, name)
		}
	}
	return unknown
}
