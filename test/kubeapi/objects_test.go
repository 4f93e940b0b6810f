package kubeapi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeObjects_ReadsEveryDocumentAndSkipsEmptyOnes(t *testing.T) {
	const stream = `---
# a comment-only document, as kustomize and editors leave them
---
apiVersion: v1
kind: Namespace
metadata:
  name: one
---
---
{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "two", "namespace": "one"}}
`
	objs, err := DecodeObjects(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, obj := range objs {
		got = append(got, obj.GetKind()+"/"+obj.GetNamespace()+"/"+obj.GetName())
	}
	if want := "Namespace//one ConfigMap/one/two"; strings.Join(got, " ") != want {
		t.Errorf("objects = %q, want %q", got, want)
	}
}

func TestDecodeObjects_RejectsADocumentWithoutKind(t *testing.T) {
	const stream = `apiVersion: v1
kind: Namespace
metadata:
  name: one
---
apiVersion: v1
metadata:
  name: two
`
	_, err := DecodeObjects(strings.NewReader(stream))
	if err == nil || !strings.Contains(err.Error(), "document 2 has no kind") {
		t.Errorf("err = %v, want document 2 has no kind", err)
	}
}

func TestReadObjects_NamesTheFileAndDocumentInErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "objects.yaml")
	if err := os.WriteFile(path, []byte("kind: Namespace\n---\nmetadata: {name: two}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadObjects(path)
	if err == nil || !strings.Contains(err.Error(), path+": document 2 has no kind") {
		t.Errorf("err = %v, want it to name %s and document 2", err, path)
	}
}
