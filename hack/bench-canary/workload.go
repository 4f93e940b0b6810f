package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// benchNamespace holds every object of the bench.
const benchNamespace = "bench"

// objectName names the i-th Deployment and its Canary.
func objectName(i int) string { return fmt.Sprintf("app-%04d", i) }

// workloadYAML is N Deployments of one replica and their Canaries in the
// issue's shape: provider kubernetes, interval 10s, threshold 2, iterations 2,
// no metrics (so no Prometheus query is ever made).
func workloadYAML(first, n int, image string) []byte {
	var b strings.Builder
	for i := first; i < first+n; i++ {
		name := objectName(i)
		fmt.Fprintf(&b, `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  replicas: 1
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
      - name: app
        image: %[3]s
        ports:
        - name: http
          containerPort: 8080
---
apiVersion: mesh.sluice.dev/v1alpha1
kind: Canary
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  provider: kubernetes
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: %[1]s
  service:
    port: 80
    targetPort: http
  analysis:
    interval: 10s
    threshold: 2
    iterations: 2
`, name, benchNamespace, image)
	}
	return []byte(b.String())
}

// parallelKubectls is how many kubectl runs share the objects: one kubectl
// sends its requests one after the other, minutes for 300 Canaries.
const parallelKubectls = 10

// createWorkload creates the namespace, then the Deployments and Canaries.
func createWorkload(ctx context.Context, c *cluster, n int) error {
	if _, err := c.run(ctx, nil, "create", "namespace", benchNamespace); err != nil {
		return err
	}
	chunk := (n + parallelKubectls - 1) / parallelKubectls
	var wg sync.WaitGroup
	errs := make([]error, parallelKubectls)
	for k := range parallelKubectls {
		first := k * chunk
		count := min(chunk, n-first)
		if count <= 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[k] = c.run(ctx, workloadYAML(first, count, "example.invalid/app:1"), "apply", "--server-side", "-f", "-")
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// changeImages gives every Deployment a new image at (nearly) the same
// time, split over parallelKubectls concurrent runs.
func changeImages(ctx context.Context, c *cluster, n int) error {
	var wg sync.WaitGroup
	errs := make([]error, parallelKubectls)
	for k := range parallelKubectls {
		args := []string{"-n", benchNamespace, "set", "image"}
		for i := k; i < n; i += parallelKubectls {
			args = append(args, "deployment/"+objectName(i))
		}
		if len(args) == 4 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[k] = c.run(ctx, nil, append(args, "app=example.invalid/app:2")...)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
