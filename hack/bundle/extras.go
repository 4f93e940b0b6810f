package main

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// olmBundleKinds are the kinds a registry+v1 bundle may carry next to the CSV
// and CRDs (OLM installs them into the operator's namespace or the cluster).
var olmBundleKinds = map[string]bool{
	"ClusterRole": true, "ClusterRoleBinding": true, "ConfigMap": true, "PodDisruptionBudget": true,
	"PriorityClass": true, "PrometheusRule": true, "Role": true, "RoleBinding": true, "Secret": true,
	"Service": true, "ServiceAccount": true, "ServiceMonitor": true, "VerticalPodAutoscaler": true,
	"ConsoleYAMLSample": true, "ConsoleQuickStart": true, "ConsoleCLIDownload": true, "ConsoleLink": true,
}

// extraManifests is what the bundle ships besides the CSV and the CRDs: the
// objects the CSV did not absorb (e.g. the metrics Service and the roles users
// bind themselves). Namespaces are cleared: OLM chooses the namespace.
func extraManifests(r *renderedObjects, g grantedPermissions, webhookServices, operatorAccounts map[string]bool) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	keep := func(u *unstructured.Unstructured) {
		c := u.DeepCopy()
		c.SetNamespace("")
		out = append(out, c)
	}
	for _, u := range r.rest {
		if !olmBundleKinds[u.GetKind()] {
			return nil, fmt.Errorf("%s %s: OLM bundles cannot carry kind %s; drop it in config/manifests", u.GetKind(), u.GetName(), u.GetKind())
		}
		keep(u)
	}
	for _, role := range r.roles {
		if !g.absorbed[objectKey("Role", role.Name)] {
			keep(r.raw[objectKey("Role", role.Name)])
		}
	}
	for _, role := range r.clusterRoles {
		if !g.absorbed[objectKey("ClusterRole", role.Name)] {
			keep(r.raw[objectKey("ClusterRole", role.Name)])
		}
	}
	for _, b := range r.roleBindings {
		if !g.absorbed[objectKey("RoleBinding", b.Name)] {
			keep(r.raw[objectKey("RoleBinding", b.Name)])
		}
	}
	for _, b := range r.clusterRoleBindings {
		if !g.absorbed[objectKey("ClusterRoleBinding", b.Name)] {
			keep(r.raw[objectKey("ClusterRoleBinding", b.Name)])
		}
	}
	for _, s := range r.services {
		if !webhookServices[s.Name] {
			keep(r.raw[objectKey("Service", s.Name)])
		}
	}
	// OLM creates the ServiceAccounts the CSV's Deployments run as.
	for sa := range r.serviceAccounts {
		if !operatorAccounts[sa] {
			keep(r.raw[objectKey("ServiceAccount", sa)])
		}
	}
	sortByKindAndName(out)
	return out, nil
}

// sortByKindAndName orders objects so the bundle's file list is stable.
func sortByKindAndName(objs []*unstructured.Unstructured) {
	sort.Slice(objs, func(i, j int) bool {
		if objs[i].GetKind() != objs[j].GetKind() {
			return objs[i].GetKind() < objs[j].GetKind()
		}
		return objs[i].GetName() < objs[j].GetName()
	})
}
