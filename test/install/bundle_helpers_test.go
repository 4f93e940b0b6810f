package install

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/sluicemesh/sluice/test/kubeapi"
)

// What the bundle tests generate, with the flags `make bundle` passes.
const (
	bundleVersion = "0.1.0"
	bundleImage   = "registry.example/sluice/manager:0.1.0"
	csvName       = "sluice.v" + bundleVersion
	bundlePackage = "sluice"
)

var (
	bundleOnce sync.Once
	bundleOut  string // directory holding bundle/ and bundle.Dockerfile
	bundleErr  string
)

// generatedBundle runs hack/bundle once, as `make bundle` does, writing into a
// temporary directory so the tests never touch the repository's bundle/.
func generatedBundle(t *testing.T) string {
	t.Helper()
	bundleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-bundle-")
		if err != nil {
			bundleErr = err.Error()
			return
		}
		cleanups = append(cleanups, func() { _ = os.RemoveAll(dir) })
		var stderr bytes.Buffer
		cmd := exec.Command("go", "run", "./hack/bundle", "--version", bundleVersion, "--image", bundleImage,
			"--kustomize", kustomizeBin, "--output-dir", dir)
		cmd.Dir = kubeapi.RepoRoot()
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			bundleErr = err.Error() + "\n" + stderr.String()
			return
		}
		bundleOut = dir
	})
	if bundleOut == "" {
		t.Fatalf("hack/bundle failed: %s", bundleErr)
	}
	return bundleOut
}

// bundleManifests reads every object in bundle/manifests.
func bundleManifests(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(generatedBundle(t), "bundle", "manifests", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("bundle/manifests is empty (%v)", err)
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		objs = append(objs, readObjectsFile(t, f)...)
	}
	return objs
}

// readYAMLFile decodes one YAML document into v.
func readYAMLFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
}
