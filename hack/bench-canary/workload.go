package main

import (
	"context"
	"fmt"
	"strings"
)

// benchNamespace holds every object of the bench.
const benchNamespace = "bench"

// objectName names the i-th Deployment and its Canary.
func objectName(i int) string { return fmt.Sprintf("app-%04d", i) }

// workloadYAML is N Deployments of one replica and their Canaries in the
// issue's shape: provider kubernetes, interval 10s, threshold 2, iterations 2,
// no metrics (so no Prometheus query is ever made).
func workloadYAML(n int, image string) []byte {
	var b strings.Builder
	for i := range n {
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

// createWorkload creates the namespace, then the Deployments and Canaries.
func createWorkload(ctx context.Context, c *cluster, n int) error {
	if _, err := c.run(ctx, nil, "create", "namespace", benchNamespace); err != nil {
		return err
	}
	_, err := c.run(ctx, workloadYAML(n, "example.invalid/app:1"), "apply", "--server-side", "-f", "-")
	return err
}

// changeImages gives every Deployment a new image in one request batch: one
// strategic-merge patch per Deployment, sent by one kubectl run.
func changeImages(ctx context.Context, c *cluster, n int) error {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "deployment/%s ", objectName(i))
	}
	args := append([]string{"-n", benchNamespace, "set", "image"}, strings.Fields(b.String())...)
	_, err := c.run(ctx, nil, append(args, "app=example.invalid/app:2")...)
	return err
}
