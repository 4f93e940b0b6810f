package main

import (
	"sort"
	"strings"
	"unicode"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ownedCRD is an entry of the CSV's spec.customresourcedefinitions.owned: the
// APIs this operator provides, as a console lists them.
type ownedCRD struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Kind        string `json:"kind"`
	DisplayName string `json:"displayName,omitempty"`
	Description string `json:"description,omitempty"`
}

// ownedCRDs lists every served version of every CRD. The description is the
// first paragraph of the type's doc comment (the schema's description).
func ownedCRDs(crds []*unstructured.Unstructured) ([]ownedCRD, error) {
	var owned []ownedCRD
	for _, u := range crds {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := fromUnstructured(u, &crd); err != nil {
			return nil, err
		}
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			var description string
			if v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
				description = firstParagraph(v.Schema.OpenAPIV3Schema.Description)
			}
			owned = append(owned, ownedCRD{
				Name:        crd.Name,
				Version:     v.Name,
				Kind:        crd.Spec.Names.Kind,
				DisplayName: displayName(crd.Spec.Names.Kind),
				Description: description,
			})
		}
	}
	sort.Slice(owned, func(i, j int) bool {
		if owned[i].Name != owned[j].Name {
			return owned[i].Name < owned[j].Name
		}
		return owned[i].Version < owned[j].Version
	})
	return owned, nil
}

// displayName spaces a kind's words: "TrafficPolicy" becomes "Traffic Policy".
func displayName(kind string) string {
	var b strings.Builder
	for i, r := range kind {
		if i > 0 && unicode.IsUpper(r) && !unicode.IsUpper(rune(kind[i-1])) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// firstParagraph joins the lines before the first blank line.
func firstParagraph(s string) string {
	para, _, _ := strings.Cut(strings.TrimSpace(s), "\n\n")
	return strings.Join(strings.Fields(para), " ")
}
