package e2e

import (
	"context"
	"os"
	"strings"

	"github.com/sluicemesh/sluice/test/kwokproc"
)

// kwokCluster is the suite's own kwok cluster: its own name and state
// directory (hack/local-cluster.sh's SLUICE_CLUSTER_NAME and KWOK_WORKDIR), so
// it runs beside a user's `make run-local` and leaves nothing behind.
type kwokCluster struct {
	name, workdir string
}

func (c kwokCluster) env() []string {
	// Later entries win over inherited ones (os/exec keeps the last duplicate).
	return append(os.Environ(), "SLUICE_CLUSTER_NAME="+c.name, "KWOK_WORKDIR="+c.workdir)
}

func (c kwokCluster) up(ctx context.Context) error {
	_, err := run(ctx, c.env(), nil, "hack/local-cluster.sh", "up")
	return err
}

func (c kwokCluster) down(ctx context.Context) error {
	_, err := run(ctx, c.env(), nil, "hack/local-cluster.sh", "down")
	return err
}

func (c kwokCluster) kubeconfig(ctx context.Context) (string, error) {
	out, err := run(ctx, c.env(), nil, "hack/local-cluster.sh", "kubeconfig")
	return strings.TrimSpace(string(out)), err
}

// pids are the processes kwokctl started for the cluster.
func (c kwokCluster) pids() (map[string]int, error) {
	return kwokproc.PIDs(kwokproc.ClusterDir(c.workdir, c.name))
}
