package e2e

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"

	"github.com/sluicemesh/sluice/test/kwokproc"
)

// repoRoot is where scripts and builds run from; go test runs in this
// package's directory.
var repoRoot, _ = filepath.Abs(filepath.Join("..", ".."))

// sluiceNamespace holds the manager's Lease and webhook certificate Secret,
// as in hack/run-local.sh.
const sluiceNamespace = "sluice-system"

// suite is what TestMain set up once for the package: the cluster with
// Sluice's CRDs, Gateway API's HTTPRoute and the webhook configurations
// installed, and the binaries the tests run. It is nil when the suite is
// skipped (see skipReason).
var suite *suiteEnv

// skipReason says why the suite cannot run here, when suite is nil.
var skipReason string

type suiteEnv struct {
	cluster    kwokCluster
	kubeconfig string
	client     client.WithWatch
	// managerBinary is cmd/manager built for this run.
	managerBinary string
	// webhookPort is where the webhook configurations send admission
	// requests: https://127.0.0.1:<webhookPort>.
	webhookPort int
	// kubectlBinary is the kubectl built with the cluster.
	kubectlBinary string
	// workdir holds the binaries, the cluster's state and the logs.
	workdir string

	tornDown    sync.Once
	tearDownErr error
}

func TestMain(m *testing.M) { os.Exit(runSuite(m)) }

func runSuite(m *testing.M) int {
	if reason := missingTools(); reason != "" {
		// CI builds every binary first, so a missing one there is a broken
		// pipeline, not a reason to skip the end-to-end tests.
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "CI=true and the end-to-end suite cannot run:", reason)
			return 1
		}
		skipReason = reason
		return m.Run()
	}
	flag.Parse()
	s, err := newSuiteEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		return 1
	}
	stopGuard := s.guardTeardown()
	code := 1
	if err := s.setUp(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
	} else {
		suite = s
		code = m.Run()
	}
	stopGuard()
	if err := s.tearDown(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e teardown:", err)
		code = 1
	}
	return code
}

// guardTeardown deletes the cluster when the run ends without m.Run
// returning: kwokctl's processes are not children of the test binary, so they
// would outlive it. Ctrl-C (SIGINT) or SIGTERM tear down and exit; go test's
// -timeout panics the binary, so the cluster is deleted a little before it
// (the tests then fail on a vanished API server, which says what happened).
func (s *suiteEnv) guardTeardown() (stop func()) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	var beforeTimeout <-chan time.Time
	timer := time.NewTimer(0)
	timer.Stop()
	if d := testTimeout(); d > 0 {
		timer.Reset(max(d-teardownMargin, d/2))
		beforeTimeout = timer.C
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case sig := <-signals:
			fmt.Fprintf(os.Stderr, "e2e: %s: deleting cluster %s\n", sig, s.cluster.name)
			if err := s.tearDown(); err != nil {
				fmt.Fprintln(os.Stderr, "e2e teardown:", err)
			}
			os.Exit(1)
		case <-beforeTimeout:
			fmt.Fprintf(os.Stderr, "e2e: go test's -timeout is near: deleting cluster %s now\n", s.cluster.name)
			if err := s.tearDown(); err != nil {
				fmt.Fprintln(os.Stderr, "e2e teardown:", err)
			}
		}
	}()
	return func() {
		signal.Stop(signals)
		timer.Stop()
		close(done)
	}
}

// teardownMargin is how long before go test's -timeout the guard deletes the
// cluster: enough for kwokctl to stop it.
const teardownMargin = time.Minute

// testTimeout is go test's -timeout (0: none).
func testTimeout() time.Duration {
	if f := flag.Lookup("test.timeout"); f != nil {
		if getter, ok := f.Value.(flag.Getter); ok {
			if d, ok := getter.Get().(time.Duration); ok {
				return d
			}
		}
	}
	return 0
}

// requireSuite skips t when the suite could not be set up here.
func requireSuite(t *testing.T) *suiteEnv {
	t.Helper()
	if suite == nil {
		t.Skip(skipReason)
	}
	return suite
}

// missingTools names what the suite needs and cannot find: the local
// cluster's binaries (make cluster-binaries), kustomize (make kustomize) and
// Debian's prometheus.
func missingTools() string {
	var missing []string
	dir, err := clusterBinaryDir()
	if err != nil {
		return err.Error()
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok", "kwokctl"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			missing = append(missing, filepath.Join(dir, b)+" (make cluster-binaries)")
		}
	}
	if _, err := os.Stat(kustomizeBinary()); err != nil {
		missing = append(missing, kustomizeBinary()+" (make kustomize)")
	}
	if _, err := exec.LookPath("prometheus"); err != nil {
		missing = append(missing, "prometheus in PATH (apt-get install prometheus)")
	}
	if len(missing) == 0 {
		return ""
	}
	return "missing " + strings.Join(missing, ", ")
}

// clusterBinaryDir is where hack/k8s-binaries.sh builds the cluster's
// binaries, kubectl among them.
func clusterBinaryDir() (string, error) {
	out, err := exec.Command(filepath.Join(repoRoot, "hack", "k8s-binaries.sh"), "print-dir").Output()
	if err != nil {
		return "", fmt.Errorf("hack/k8s-binaries.sh print-dir: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func kustomizeBinary() string {
	if k := os.Getenv("KUSTOMIZE"); k != "" {
		return k
	}
	return filepath.Join(repoRoot, "bin", "kustomize")
}

// newSuiteEnv names the suite's cluster and makes its work directory.
func newSuiteEnv() (*suiteEnv, error) {
	workdir, err := os.MkdirTemp("", "sluice-e2e-")
	if err != nil {
		return nil, err
	}
	return &suiteEnv{
		cluster: kwokCluster{name: fmt.Sprintf("sluice-e2e-%d", os.Getpid()), workdir: filepath.Join(workdir, "kwok")},
		workdir: workdir,
	}, nil
}

// setUp starts the cluster while the binaries build, then installs what a
// user installs before running the manager. It is torn down even when setUp
// fails half-way.
func (s *suiteEnv) setUp() error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	binDir := filepath.Join(s.workdir, "bin")
	var built time.Duration
	buildErr := make(chan error, 1)
	go func() {
		t0 := time.Now()
		_, err := run(ctx, nil, nil, "go", "build", "-o", binDir+"/", "./cmd/manager", "./hack/webhook-urls")
		built = time.Since(t0)
		buildErr <- err
	}()
	t0 := time.Now()
	upErr := s.cluster.up(ctx)
	clusterUp := time.Since(t0)
	if err := errors.Join(upErr, <-buildErr); err != nil {
		return err
	}
	s.managerBinary = filepath.Join(binDir, "manager")
	dir, err := clusterBinaryDir()
	if err != nil {
		return err
	}
	s.kubectlBinary = filepath.Join(dir, "kubectl")
	if s.kubeconfig, err = s.cluster.kubeconfig(ctx); err != nil {
		return err
	}
	if s.client, err = newClient(s.kubeconfig); err != nil {
		return err
	}
	if s.webhookPort, err = freeLoopbackPort(); err != nil {
		return err
	}
	t0 = time.Now()
	if err := s.install(ctx, filepath.Join(binDir, "webhook-urls")); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "e2e: cluster %s up in %s, binaries built in %s (in parallel), Sluice installed in %s; setup took %s\n",
		s.cluster.name, clusterUp.Round(100*time.Millisecond), built.Round(100*time.Millisecond),
		time.Since(t0).Round(100*time.Millisecond), time.Since(start).Round(100*time.Millisecond))
	return nil
}

// install does what hack/run-local.sh does before it starts the manager:
// namespace sluice-system, the CRDs, and the webhook configurations by URL on
// 127.0.0.1 (nothing may send a packet to a ClusterIP). It adds Gateway API's
// HTTPRoute CRD, the route object of the default provider, from the module
// the code is built with.
func (s *suiteEnv) install(ctx context.Context, webhookURLs string) error {
	if _, err := s.kubectl(ctx, nil, "create", "namespace", sluiceNamespace); err != nil {
		return err
	}
	crds, err := run(ctx, nil, nil, kustomizeBinary(), "build", "config/crd")
	if err != nil {
		return err
	}
	if _, err := s.kubectl(ctx, crds, "apply", "--server-side", "-f", "-"); err != nil {
		return err
	}
	gatewayDir, err := run(ctx, nil, nil, "go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
	if err != nil {
		return err
	}
	httpRoutes := filepath.Join(strings.TrimSpace(string(gatewayDir)), "config", "crd", "experimental", "gateway.networking.k8s.io_httproutes.yaml")
	if _, err := s.kubectl(ctx, nil, "apply", "--server-side", "-f", httpRoutes); err != nil {
		return err
	}
	if _, err := s.kubectl(ctx, nil, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"); err != nil {
		return err
	}
	webhooks, err := run(ctx, nil, nil, kustomizeBinary(), "build", "config/local")
	if err != nil {
		return err
	}
	if webhooks, err = run(ctx, nil, webhooks, webhookURLs, "--base", "https://127.0.0.1:"+strconv.Itoa(s.webhookPort)); err != nil {
		return err
	}
	_, err = s.kubectl(ctx, webhooks, "apply", "-f", "-")
	return err
}

// tearDown deletes the cluster and checks that none of its processes is
// left; the manager and Prometheus are stopped by the tests that start them.
// Only the first call does it (see guardTeardown); the others wait for it
// and return its result.
func (s *suiteEnv) tearDown() error {
	s.tornDown.Do(func() { s.tearDownErr = s.deleteCluster() })
	return s.tearDownErr
}

func (s *suiteEnv) deleteCluster() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pids, pidsErr := s.cluster.pids()
	if err := s.cluster.down(ctx); err != nil {
		return fmt.Errorf("delete the cluster (run: SLUICE_CLUSTER_NAME=%s KWOK_WORKDIR=%s hack/local-cluster.sh down): %w",
			s.cluster.name, s.cluster.workdir, err)
	}
	if pidsErr == nil {
		if err := kwokproc.WaitGone(pids, 15*time.Second); err != nil {
			return err
		}
	}
	return os.RemoveAll(s.workdir)
}

func (s *suiteEnv) kubectl(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	return run(ctx, nil, stdin, s.kubectlBinary, append([]string{"--kubeconfig", s.kubeconfig}, args...)...)
}

// run runs a command in the repository's top directory and returns its
// stdout; a failure carries its stderr.
func run(ctx context.Context, env []string, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = repoRoot, env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

func newClient(kubeconfig string) (client.WithWatch, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", kubeconfig, err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, meshv1alpha1.AddToScheme, gatewayv1.Install} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	return client.NewWithWatch(cfg, client.Options{Scheme: scheme})
}

func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
