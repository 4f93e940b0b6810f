package main

import (
	"fmt"
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
)

// strategyPermission is one entry of the CSV's install.spec.permissions or
// clusterPermissions: the rules OLM grants a ServiceAccount it creates.
type strategyPermission struct {
	ServiceAccountName string              `json:"serviceAccountName"`
	Rules              []rbacv1.PolicyRule `json:"rules"`
}

// grantedPermissions is the RBAC of the operator's ServiceAccounts as OLM wants
// it, and which RBAC objects it replaces (they are not shipped separately).
type grantedPermissions struct {
	permissions        []strategyPermission // from RoleBindings: namespaced, in the operator's namespace
	clusterPermissions []strategyPermission // from ClusterRoleBindings: cluster-wide
	absorbed           map[string]bool      // objectKey of every Role, ClusterRole and binding folded in
}

// permissionsFor follows every binding whose subject is one of the operator's
// ServiceAccounts to its role. A RoleBinding grants in the operator's
// namespace even when it names a ClusterRole, so it becomes a permission; a
// ClusterRoleBinding becomes a clusterPermission.
func permissionsFor(r *renderedObjects, operatorAccounts map[string]bool) (grantedPermissions, error) {
	g := grantedPermissions{absorbed: map[string]bool{}}
	namespaced := map[string][]rbacv1.PolicyRule{}
	cluster := map[string][]rbacv1.PolicyRule{}

	for _, b := range r.roleBindings {
		accounts := boundAccounts(b.Subjects, operatorAccounts)
		if len(accounts) == 0 {
			continue
		}
		rules, err := r.rulesOf(b.RoleRef)
		if err != nil {
			return g, fmt.Errorf("binding RoleBinding %s: %w", b.Name, err)
		}
		for _, sa := range accounts {
			namespaced[sa] = append(namespaced[sa], rules...)
		}
		g.absorbed[objectKey("RoleBinding", b.Name)] = true
		g.absorbed[objectKey(b.RoleRef.Kind, b.RoleRef.Name)] = true
	}
	for _, b := range r.clusterRoleBindings {
		accounts := boundAccounts(b.Subjects, operatorAccounts)
		if len(accounts) == 0 {
			continue
		}
		rules, err := r.rulesOf(b.RoleRef)
		if err != nil {
			return g, fmt.Errorf("binding ClusterRoleBinding %s: %w", b.Name, err)
		}
		for _, sa := range accounts {
			cluster[sa] = append(cluster[sa], rules...)
		}
		g.absorbed[objectKey("ClusterRoleBinding", b.Name)] = true
		g.absorbed[objectKey(b.RoleRef.Kind, b.RoleRef.Name)] = true
	}
	g.permissions = byAccount(namespaced)
	g.clusterPermissions = byAccount(cluster)
	return g, nil
}

// boundAccounts returns the operator's ServiceAccounts among subjects.
func boundAccounts(subjects []rbacv1.Subject, operatorAccounts map[string]bool) []string {
	var names []string
	for _, s := range subjects {
		if s.Kind == rbacv1.ServiceAccountKind && operatorAccounts[s.Name] {
			names = append(names, s.Name)
		}
	}
	return names
}

// rulesOf finds the rules of the role a binding refers to; a binding to a role
// that is not part of the install is an error, since OLM could not grant it.
func (r *renderedObjects) rulesOf(ref rbacv1.RoleRef) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "Role":
		if role, ok := r.roles[ref.Name]; ok {
			return role.Rules, nil
		}
	case "ClusterRole":
		if role, ok := r.clusterRoles[ref.Name]; ok {
			return role.Rules, nil
		}
	}
	return nil, fmt.Errorf("refers to %s %s, which is not in the rendered manifests", ref.Kind, ref.Name)
}

// byAccount orders the entries by ServiceAccount so the CSV is stable.
func byAccount(rules map[string][]rbacv1.PolicyRule) []strategyPermission {
	out := make([]strategyPermission, 0, len(rules))
	for sa, r := range rules {
		out = append(out, strategyPermission{ServiceAccountName: sa, Rules: r})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ServiceAccountName < out[j].ServiceAccountName })
	return out
}

// objectKey names an object of the rendered install by kind and name.
func objectKey(kind, name string) string { return kind + "/" + name }
