package main

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPermissionsFor_BindingKindDecidesScope(t *testing.T) {
	secrets := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}
	nodes := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"list"}}
	leases := rbacv1.PolicyRule{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"update"}}
	operator := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "manager"}}
	someoneElse := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "prometheus"}}
	r := &renderedObjects{
		roles: map[string]rbacv1.Role{"leader": {ObjectMeta: metav1.ObjectMeta{Name: "leader"}, Rules: []rbacv1.PolicyRule{leases}}},
		clusterRoles: map[string]rbacv1.ClusterRole{
			"reader":  {ObjectMeta: metav1.ObjectMeta{Name: "reader"}, Rules: []rbacv1.PolicyRule{secrets}},
			"cluster": {ObjectMeta: metav1.ObjectMeta{Name: "cluster"}, Rules: []rbacv1.PolicyRule{nodes}},
			"metrics": {ObjectMeta: metav1.ObjectMeta{Name: "metrics"}},
		},
		roleBindings: []rbacv1.RoleBinding{
			{ObjectMeta: metav1.ObjectMeta{Name: "leader"}, RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "leader"}, Subjects: operator},
			// A RoleBinding to a ClusterRole grants only in the namespace.
			{ObjectMeta: metav1.ObjectMeta{Name: "reader"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "reader"}, Subjects: operator},
		},
		clusterRoleBindings: []rbacv1.ClusterRoleBinding{
			{ObjectMeta: metav1.ObjectMeta{Name: "cluster"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "cluster"}, Subjects: operator},
			{ObjectMeta: metav1.ObjectMeta{Name: "metrics"}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "metrics"}, Subjects: someoneElse},
		},
	}
	g, err := permissionsFor(r, map[string]bool{"manager": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.permissions) != 1 || len(g.permissions[0].Rules) != 2 || g.permissions[0].ServiceAccountName != "manager" {
		t.Errorf("permissions = %+v, want the leader Role's and the reader ClusterRole's rules for manager", g.permissions)
	}
	if len(g.clusterPermissions) != 1 || len(g.clusterPermissions[0].Rules) != 1 || g.clusterPermissions[0].Rules[0].Resources[0] != "nodes" {
		t.Errorf("clusterPermissions = %+v, want only the nodes rule", g.clusterPermissions)
	}
	for _, key := range []string{"Role/leader", "ClusterRole/reader", "ClusterRole/cluster", "RoleBinding/reader", "ClusterRoleBinding/cluster"} {
		if !g.absorbed[key] {
			t.Errorf("%s is not folded into the CSV", key)
		}
	}
	for _, key := range []string{"ClusterRole/metrics", "ClusterRoleBinding/metrics"} {
		if g.absorbed[key] {
			t.Errorf("%s binds someone else and must ship as its own manifest", key)
		}
	}
}

func TestPermissionsFor_BindingToMissingRoleIsAnError(t *testing.T) {
	r := &renderedObjects{
		roles: map[string]rbacv1.Role{}, clusterRoles: map[string]rbacv1.ClusterRole{},
		roleBindings: []rbacv1.RoleBinding{{
			ObjectMeta: metav1.ObjectMeta{Name: "dangling"},
			RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "gone"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "manager"}},
		}},
	}
	if _, err := permissionsFor(r, map[string]bool{"manager": true}); err == nil {
		t.Error("a binding to a Role the install lacks was accepted; OLM could not grant it")
	}
}
