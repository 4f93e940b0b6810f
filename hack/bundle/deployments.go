package main

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// managerContainer is the container whose image --image sets.
const managerContainer = "manager"

// strategyDeployment is an entry of the CSV's install.spec.deployments.
type strategyDeployment struct {
	Name  string            `json:"name"`
	Label map[string]string `json:"label,omitempty"`
	Spec  map[string]any    `json:"spec"`
}

// strategyDeployments carries the rendered Deployments into the CSV with the
// manager image set, as `make deploy` does with `kustomize edit set image`.
func strategyDeployments(deployments []*unstructured.Unstructured, image string) ([]strategyDeployment, error) {
	var out []strategyDeployment
	imageSet := false
	for _, u := range deployments {
		spec, ok, err := unstructured.NestedMap(u.Object, "spec")
		if err != nil || !ok {
			return nil, fmt.Errorf("rendered Deployment %s has no spec", u.GetName())
		}
		containers, _, err := unstructured.NestedSlice(spec, "template", "spec", "containers")
		if err != nil {
			return nil, fmt.Errorf("rendered Deployment %s: %w", u.GetName(), err)
		}
		for _, c := range containers {
			if c, ok := c.(map[string]any); ok && c["name"] == managerContainer {
				c["image"] = image
				imageSet = true
			}
		}
		if err := unstructured.SetNestedSlice(spec, containers, "template", "spec", "containers"); err != nil {
			return nil, err
		}
		out = append(out, strategyDeployment{Name: u.GetName(), Label: u.GetLabels(), Spec: spec})
	}
	if !imageSet {
		return nil, fmt.Errorf("no Deployment has a container named %q to run image %s", managerContainer, image)
	}
	return out, nil
}

// serviceAccountsOf returns the ServiceAccounts the Deployments' pods run as;
// OLM creates them and grants them the CSV's permissions.
func serviceAccountsOf(deployments []*unstructured.Unstructured) (map[string]bool, error) {
	accounts := map[string]bool{}
	for _, u := range deployments {
		d, err := typedDeployment(u)
		if err != nil {
			return nil, err
		}
		sa := d.Spec.Template.Spec.ServiceAccountName
		if sa == "" {
			sa = "default"
		}
		accounts[sa] = true
	}
	return accounts, nil
}
