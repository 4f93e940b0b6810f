package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/blang/semver/v4"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// readCSVBase reads the hand-written part of the ClusterServiceVersion.
func readCSVBase(path string) (*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CSV base: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read CSV base %s: %w", path, err)
	}
	u := &unstructured.Unstructured{Object: m}
	if u.GetKind() != "ClusterServiceVersion" {
		return nil, fmt.Errorf("CSV base %s: kind is %q, not ClusterServiceVersion", path, u.GetKind())
	}
	return u, nil
}

// generatedCSVParts are the fields of the CSV derived from the rendered install.
type generatedCSVParts struct {
	version            string
	replaces           string
	image              string
	almExamples        string
	deployments        []strategyDeployment
	permissions        []strategyPermission
	clusterPermissions []strategyPermission
	owned              []ownedCRD
	webhooks           []webhookDefinition
}

// relatedImage is an entry of spec.relatedImages, which lets disconnected
// clusters mirror every image the operator needs.
type relatedImage struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

// assembleCSV fills the base with the generated parts. The CSV is named
// <operator>.v<version>, the operator name taken from the base's name.
func assembleCSV(base *unstructured.Unstructured, p generatedCSVParts) (*unstructured.Unstructured, error) {
	if _, err := semver.Parse(p.version); err != nil {
		return nil, fmt.Errorf("--version %q is not a semantic version (e.g. 0.1.0): %w", p.version, err)
	}
	csv := base.DeepCopy()
	operator, _, _ := strings.Cut(base.GetName(), ".v")
	csv.SetName(operator + ".v" + p.version)
	csv.SetNamespace("") // OLM places it; the base's namespace is only a placeholder

	annotations := csv.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations["alm-examples"] = p.almExamples
	annotations["containerImage"] = p.image
	csv.SetAnnotations(annotations)

	fields := []struct {
		value any
		path  []string
	}{
		{p.version, []string{"spec", "version"}},
		{"deployment", []string{"spec", "install", "strategy"}},
		{p.deployments, []string{"spec", "install", "spec", "deployments"}},
		{p.permissions, []string{"spec", "install", "spec", "permissions"}},
		{p.clusterPermissions, []string{"spec", "install", "spec", "clusterPermissions"}},
		{p.owned, []string{"spec", "customresourcedefinitions", "owned"}},
		{p.webhooks, []string{"spec", "webhookdefinitions"}},
		{[]relatedImage{{Name: managerContainer, Image: p.image}}, []string{"spec", "relatedImages"}},
	}
	if p.replaces != "" {
		fields = append(fields, struct {
			value any
			path  []string
		}{p.replaces, []string{"spec", "replaces"}})
	}
	for _, f := range fields {
		v, err := jsonValue(f.value)
		if err != nil {
			return nil, fmt.Errorf("CSV %s: %w", strings.Join(f.path, "."), err)
		}
		if err := unstructured.SetNestedField(csv.Object, v, f.path...); err != nil {
			return nil, fmt.Errorf("CSV %s: %w", strings.Join(f.path, "."), err)
		}
	}
	return csv, nil
}

// jsonValue turns a typed value into plain JSON data (maps, slices, strings,
// float64 numbers), the form unstructured objects hold.
func jsonValue(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(data, &out)
	return out, err
}
