package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// clusterName keeps the bench's kwok cluster apart from make run-local's and
// the e2e tests', so it can run while one of those is up.
const clusterName = "sluice-bench-canary"

// cluster is the bench's own kwok cluster, driven through hack/local-cluster.sh.
type cluster struct {
	root       string // repository root
	workdir    string // KWOK_WORKDIR of this cluster
	kubectl    string
	kubeconfig string
	// extraArgs are more component flags for kwokctl (KWOK_EXTRA_ARGS).
	extraArgs string
}

func newCluster(root string, controllerManagerQPS int) (*cluster, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, err
	}
	binDir, err := output(exec.Command(filepath.Join(root, "hack/k8s-binaries.sh"), "print-dir"))
	if err != nil {
		return nil, err
	}
	// Checked before a cluster starts: the Gateway API CRDs are rendered with it.
	if _, err := os.Stat(filepath.Join(root, "bin/kustomize")); err != nil {
		return nil, fmt.Errorf("bin/kustomize is missing (run the bench with make bench-canary, which builds it): %w", err)
	}
	return &cluster{
		root:      root,
		workdir:   filepath.Join(cache, "sluice", "bench-canary", "kwok"),
		kubectl:   filepath.Join(strings.TrimSpace(binDir), "kubectl"),
		extraArgs: controllerManagerArgs(controllerManagerQPS),
	}, nil
}

// script runs hack/local-cluster.sh with this cluster's name and workdir.
func (c *cluster) script(ctx context.Context, verb string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.root, "hack/local-cluster.sh"), verb)
	cmd.Env = append(os.Environ(), "SLUICE_CLUSTER_NAME="+clusterName, "KWOK_WORKDIR="+c.workdir, "KWOK_EXTRA_ARGS="+c.extraArgs)
	return output(cmd)
}

// controllerManagerArgs are the kwokctl extra args that give the
// controller-manager qps requests per second (burst twice that); none for 0.
func controllerManagerArgs(qps int) string {
	if qps == 0 {
		return ""
	}
	return fmt.Sprintf("kube-controller-manager=kube-api-qps=%d kube-controller-manager=kube-api-burst=%d", qps, 2*qps)
}

func (c *cluster) exists() bool {
	_, err := c.script(context.Background(), "exists")
	return err == nil
}

func (c *cluster) up(ctx context.Context) error {
	if _, err := c.script(ctx, "up"); err != nil {
		return err
	}
	kc, err := c.script(ctx, "kubeconfig")
	c.kubeconfig = strings.TrimSpace(kc)
	return err
}

// down deletes the cluster; it runs on teardown, so it ignores cancellation.
func (c *cluster) down() error {
	_, err := c.script(context.Background(), "down")
	return err
}

// run runs kubectl against the cluster, stdin optional.
func (c *cluster) run(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.kubectl, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	return output(cmd)
}

// installCRDs installs Sluice's CRDs and the Gateway API CRDs (experimental
// channel, from the module the operator is built with), as hack/run-local.sh does.
func (c *cluster) installCRDs(ctx context.Context) error {
	if _, err := c.run(ctx, nil, "apply", "--server-side", "-f", filepath.Join(c.root, "config/crd/bases")); err != nil {
		return err
	}
	dir, err := output(exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api"))
	if err != nil {
		return err
	}
	gatewayCRDs, err := output(exec.CommandContext(ctx, filepath.Join(c.root, "bin/kustomize"), "build",
		filepath.Join(strings.TrimSpace(dir), "config/crd/experimental")))
	if err != nil {
		return err
	}
	if _, err := c.run(ctx, []byte(gatewayCRDs), "apply", "--server-side", "-f", "-"); err != nil {
		return err
	}
	_, err = c.run(ctx, nil, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
	return err
}

// output runs cmd and returns its stdout, or an error carrying its stderr.
func output(cmd *exec.Cmd) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
