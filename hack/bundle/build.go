package main

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// bundleInput is everything the bundle is made from.
type bundleInput struct {
	objects  []*unstructured.Unstructured // config/manifests, rendered
	csvBase  *unstructured.Unstructured
	examples []*unstructured.Unstructured // samples of our kinds
	version  string
	image    string
	replaces string
}

// bundle is the content of bundle/manifests.
type bundle struct {
	csv      *unstructured.Unstructured
	crds     []*unstructured.Unstructured
	extras   []*unstructured.Unstructured
	warnings []string // what OLM will do differently from the kustomize install
}

// buildBundle folds the rendered install into a CSV the way OLM expects it:
// the Deployments, the RBAC bound to their ServiceAccounts and the webhook
// configurations become CSV fields; CRDs and the remaining objects are shipped
// beside it.
func buildBundle(in bundleInput) (*bundle, error) {
	r, err := sortObjects(in.objects)
	if err != nil {
		return nil, err
	}
	if len(r.deployments) == 0 {
		return nil, fmt.Errorf("the rendered manifests have no Deployment to install")
	}
	deployments, err := strategyDeployments(r.deployments, in.image)
	if err != nil {
		return nil, err
	}
	accounts, err := serviceAccountsOf(r.deployments)
	if err != nil {
		return nil, err
	}
	granted, err := permissionsFor(r, accounts)
	if err != nil {
		return nil, err
	}
	webhooks, webhookServices, warnings, err := webhookDefinitions(r)
	if err != nil {
		return nil, err
	}
	owned, err := ownedCRDs(r.crds)
	if err != nil {
		return nil, err
	}
	examples, err := almExamples(in.examples)
	if err != nil {
		return nil, err
	}
	csv, err := assembleCSV(in.csvBase, generatedCSVParts{
		version:            in.version,
		replaces:           in.replaces,
		image:              in.image,
		almExamples:        examples,
		deployments:        deployments,
		permissions:        granted.permissions,
		clusterPermissions: granted.clusterPermissions,
		owned:              owned,
		webhooks:           webhooks,
	})
	if err != nil {
		return nil, err
	}
	extras, err := extraManifests(r, granted, webhookServices, accounts)
	if err != nil {
		return nil, err
	}
	return &bundle{csv: csv, crds: r.crds, extras: extras, warnings: warnings}, nil
}
