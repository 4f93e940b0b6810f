// Package v1alpha1 contains the API types of the mesh.sluice.dev group: Mesh,
// Canary and Policy.
// +kubebuilder:object:generate=true
// +groupName=mesh.sluice.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "mesh.sluice.dev", Version: "v1alpha1"}

	// SchemeBuilder adds this group-version's kinds to a scheme. Built on
	// apimachinery alone, so importing the API pulls in no controller code.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme

	// knownTypes are the kinds each *_types.go file registers in its init.
	knownTypes []runtime.Object
)

// register records kinds (object and list) for addKnownTypes.
func register(objects ...runtime.Object) {
	knownTypes = append(knownTypes, objects...)
}

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion, knownTypes...)
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
