package kubeapi

import (
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// ReadObjects decodes every document of a multi-document YAML (or JSON)
// file, such as config/samples or dist/install.yaml, into objects to send to
// the API server as they are.
func ReadObjects(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	objs, err := DecodeObjects(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return objs, nil
}

// DecodeObjects is ReadObjects for a stream, such as `kustomize build`
// output. Empty documents (a leading or trailing ---, comments only) are
// skipped; a document without a kind is an error, since the API server could
// not take it either.
func DecodeObjects(r io.Reader) ([]*unstructured.Unstructured, error) {
	decoder := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var objs []*unstructured.Unstructured
	for i := 1; ; i++ {
		var doc map[string]any
		err := decoder.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(doc) == 0 {
			continue
		}
		obj := &unstructured.Unstructured{Object: doc}
		if obj.GetKind() == "" {
			return nil, fmt.Errorf("document %d has no kind", i)
		}
		objs = append(objs, obj)
	}
}
