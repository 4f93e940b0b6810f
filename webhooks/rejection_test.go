package webhooks

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// expectRejectedByWebhook checks that err is the 422 Invalid answer of our validating webhook (not of the CRD
// schema or CEL: a case those catch belongs in api/v1alpha1's tests) and that its message names fieldPath.
func expectRejectedByWebhook(t *testing.T, err error, webhook, fieldPath string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %s rejected", fieldPath)
	}
	msg := err.Error()
	if !apierrors.IsInvalid(err) {
		t.Errorf("want a 422 Invalid, got %v", err)
	}
	if !strings.Contains(msg, `admission webhook "`+webhook+`" denied the request`) {
		t.Errorf("not rejected by webhook %s: %s", webhook, msg)
	}
	if !strings.Contains(msg, fieldPath+":") {
		t.Errorf("message does not name %s: %s", fieldPath, msg)
	}
}

// rejection is one way to break a valid object that only our validating
// webhook catches, and the field its rejection must name.
type rejection[T client.Object] struct {
	name, field string
	invalidate  func(T)
}

// expectRejections creates, for each case, a fresh valid object broken by
// it and expects webhook to reject it naming the field; then the unbroken
// object must be accepted, so that every case fails for its own reason.
func expectRejections[T client.Object](t *testing.T, valid func() T, webhook string, cases []rejection[T]) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			obj := valid()
			tt.invalidate(obj)
			expectRejectedByWebhook(t, env.Client.Create(context.Background(), obj), webhook, tt.field)
		})
	}
	t.Run("the unbroken object is accepted", func(t *testing.T) {
		if err := env.Client.Create(context.Background(), valid()); err != nil {
			t.Fatalf("valid object rejected: %v", err)
		}
	})
}

// createFromYAML creates the object of a YAML document in namespace ns (unless cluster-scoped), as kubectl would
// send it: unlike a typed client, it keeps the user's spelling of durations and quantities.
func createFromYAML(t *testing.T, c client.Client, ns, doc string) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		t.Fatalf("test YAML: %v", err)
	}
	if obj.GetKind() != "Mesh" {
		obj.SetNamespace(ns)
	}
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %s: %v", obj.GetKind(), err)
	}
	if obj.GetKind() == "Mesh" {
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), obj) })
	}
	return obj
}

func nestedString(t *testing.T, obj *unstructured.Unstructured, path ...string) string {
	t.Helper()
	v, _, err := unstructured.NestedFieldNoCopy(obj.Object, path...)
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(path, "."), err)
	}
	s, _ := v.(string)
	return s
}

func nestedDuration(t *testing.T, obj *unstructured.Unstructured, path ...string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(nestedString(t, obj, path...))
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(path, "."), err)
	}
	return d
}
