package main

import (
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// renderedObjects is the rendered install sorted by what the bundle makes of
// each object; rest holds whatever the CSV does not absorb.
type renderedObjects struct {
	crds []*unstructured.Unstructured
	// deployments stay as rendered: the CSV carries them as `make deploy`
	// would apply them, without fields a typed round trip adds.
	deployments         []*unstructured.Unstructured
	serviceAccounts     map[string]bool
	roles               map[string]rbacv1.Role
	clusterRoles        map[string]rbacv1.ClusterRole
	roleBindings        []rbacv1.RoleBinding
	clusterRoleBindings []rbacv1.ClusterRoleBinding
	mutatingWebhooks    []admissionregistrationv1.MutatingWebhookConfiguration
	validatingWebhooks  []admissionregistrationv1.ValidatingWebhookConfiguration
	services            []corev1.Service
	rest                []*unstructured.Unstructured
	// raw holds every object as rendered, by objectKey, so what the bundle
	// ships separately is written exactly as kustomize rendered it.
	raw map[string]*unstructured.Unstructured
}

// sortObjects converts the objects the CSV is built from into their typed
// form. Namespaces are dropped: OLM installs into the OperatorGroup's.
func sortObjects(objs []*unstructured.Unstructured) (*renderedObjects, error) {
	r := &renderedObjects{
		serviceAccounts: map[string]bool{},
		roles:           map[string]rbacv1.Role{},
		clusterRoles:    map[string]rbacv1.ClusterRole{},
		raw:             map[string]*unstructured.Unstructured{},
	}
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		r.raw[objectKey(gvk.Kind, u.GetName())] = u
		var err error
		switch gvk.GroupKind().String() {
		case "Namespace":
		case "CustomResourceDefinition.apiextensions.k8s.io":
			var crd apiextensionsv1.CustomResourceDefinition
			err = fromUnstructured(u, &crd) // only to reject a malformed CRD early
			r.crds = append(r.crds, u)
		case "Deployment.apps":
			var d appsv1.Deployment
			err = fromUnstructured(u, &d) // only to reject a malformed Deployment early
			r.deployments = append(r.deployments, u)
		case "ServiceAccount":
			r.serviceAccounts[u.GetName()] = true
		case "Role.rbac.authorization.k8s.io":
			var role rbacv1.Role
			err = fromUnstructured(u, &role)
			r.roles[role.Name] = role
		case "ClusterRole.rbac.authorization.k8s.io":
			var role rbacv1.ClusterRole
			err = fromUnstructured(u, &role)
			r.clusterRoles[role.Name] = role
		case "RoleBinding.rbac.authorization.k8s.io":
			var b rbacv1.RoleBinding
			err = fromUnstructured(u, &b)
			r.roleBindings = append(r.roleBindings, b)
		case "ClusterRoleBinding.rbac.authorization.k8s.io":
			var b rbacv1.ClusterRoleBinding
			err = fromUnstructured(u, &b)
			r.clusterRoleBindings = append(r.clusterRoleBindings, b)
		case "MutatingWebhookConfiguration.admissionregistration.k8s.io":
			var w admissionregistrationv1.MutatingWebhookConfiguration
			err = fromUnstructured(u, &w)
			r.mutatingWebhooks = append(r.mutatingWebhooks, w)
		case "ValidatingWebhookConfiguration.admissionregistration.k8s.io":
			var w admissionregistrationv1.ValidatingWebhookConfiguration
			err = fromUnstructured(u, &w)
			r.validatingWebhooks = append(r.validatingWebhooks, w)
		case "Service":
			var s corev1.Service
			err = fromUnstructured(u, &s)
			r.services = append(r.services, s)
		default:
			r.rest = append(r.rest, u)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s %s: %w", gvk.Kind, u.GetName(), err)
		}
	}
	return r, nil
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}

// typedDeployment reads a rendered Deployment's typed form.
func typedDeployment(u *unstructured.Unstructured) (appsv1.Deployment, error) {
	var d appsv1.Deployment
	err := fromUnstructured(u, &d)
	return d, err
}
