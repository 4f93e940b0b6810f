package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// The bundle's layout, fixed by the registry+v1 format.
const (
	bundleDir      = "bundle"
	manifestsDir   = "manifests"
	metadataDir    = "metadata"
	dockerfileName = "bundle.Dockerfile"
)

// writeBundle replaces <out>/bundle/manifests and <out>/bundle/metadata and
// writes <out>/bundle.Dockerfile. The old directories are removed first so a
// CRD or role that left the install also leaves the bundle.
func writeBundle(out string, b *bundle, meta bundleMetadata) error {
	manifests := filepath.Join(out, bundleDir, manifestsDir)
	metadata := filepath.Join(out, bundleDir, metadataDir)
	for _, dir := range []string{manifests, metadata} {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	files := map[string]*unstructured.Unstructured{
		strings.SplitN(b.csv.GetName(), ".v", 2)[0] + ".clusterserviceversion.yaml": b.csv,
	}
	for _, crd := range b.crds {
		files[crdFileName(crd)] = crd
	}
	for _, o := range b.extras {
		files[manifestFileName(o)] = o
	}
	for name, obj := range files {
		data, err := yaml.Marshal(obj.Object)
		if err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(manifests, name), data, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(metadata, "annotations.yaml"), []byte(meta.annotationsYAML()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, dockerfileName), []byte(meta.dockerfile()), 0o644)
}

// crdFileName is controller-gen's name for a CRD file: <group>_<plural>.yaml.
func crdFileName(crd *unstructured.Unstructured) string {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	return group + "_" + plural + ".yaml"
}

// manifestFileName follows operator-sdk: <name>_<group>_<version>_<kind>.yaml,
// the group left out for the core API ("v1").
func manifestFileName(o *unstructured.Unstructured) string {
	gv := strings.ReplaceAll(o.GetAPIVersion(), "/", "_")
	return strings.ToLower(o.GetName() + "_" + gv + "_" + o.GetKind() + ".yaml")
}
