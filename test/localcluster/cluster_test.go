package localcluster_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

// The ranges of ARCHITECTURE.md, "Local cluster and its network".
var (
	podRange     = mustCIDR("198.18.0.0/16")
	serviceRange = mustCIDR("198.19.0.0/16")
)

func TestLocalCluster_RunsADeploymentOnAFakeNodeInTheBenchmarkRanges(t *testing.T) {
	g := NewWithT(t)
	cluster := newIsolatedCluster(t)
	env := cluster.env()

	start := time.Now()
	runScript(t, 3*time.Minute, env, "hack/local-cluster.sh", "up")
	t.Logf("Cluster up (with its fake node Ready) in %s", time.Since(start).Round(100*time.Millisecond))
	pids := cluster.pids(t)
	downed := false
	t.Cleanup(func() {
		if !downed {
			runScript(t, time.Minute, env, "hack/local-cluster.sh", "down")
		}
	})

	kubeconfig := strings.TrimSpace(runScript(t, 10*time.Second, env, "hack/local-cluster.sh", "kubeconfig"))
	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(restConfig.Host).To(HavePrefix("https://127.0.0.1:"))
	client := kubernetes.NewForConfigOrDie(restConfig)
	ctx := context.Background()

	_, err = client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "smoke"}}, metav1.CreateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	labels := map[string]string{"app": "podinfo"}
	_, err = client.AppsV1().Deployments("smoke").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "podinfo", Image: "ghcr.io/stefanprodan/podinfo:6.9.0", // never pulled: kwok fakes the kubelet
					Ports: []corev1.ContainerPort{{ContainerPort: 9898}},
				}}},
			},
		},
	}, metav1.CreateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	service, err := client.CoreV1().Services("smoke").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo"},
		Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(9898)}}},
	}, metav1.CreateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(serviceRange.Contains(net.ParseIP(service.Spec.ClusterIP))).To(BeTrue(), "ClusterIP %s outside %s", service.Spec.ClusterIP, serviceRange)

	created := time.Now()
	g.Eventually(func(g Gomega) {
		d, err := client.AppsV1().Deployments("smoke").Get(ctx, "podinfo", metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d.Status.ReadyReplicas).To(BeEquivalentTo(2))
	}, 2*time.Minute, 200*time.Millisecond).Should(Succeed())
	t.Logf("Deployment 2/2 Ready %s after creation", time.Since(created).Round(100*time.Millisecond))

	pods, err := client.CoreV1().Pods("smoke").List(ctx, metav1.ListOptions{LabelSelector: "app=podinfo"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pods.Items).To(HaveLen(2))
	for _, pod := range pods.Items {
		g.Expect(pod.Spec.NodeName).To(Equal("kwok-node-0"))
		g.Expect(podRange.Contains(net.ParseIP(pod.Status.PodIP))).To(BeTrue(), "pod %s IP %q outside %s", pod.Name, pod.Status.PodIP, podRange)
	}
	// EndpointSlices accept the pod IPs (they would reject loopback ones).
	g.Eventually(func(g Gomega) {
		slices, err := client.DiscoveryV1().EndpointSlices("smoke").List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=podinfo"})
		g.Expect(err).NotTo(HaveOccurred())
		var ready int
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					ready++
				}
			}
		}
		g.Expect(ready).To(Equal(2))
	}, time.Minute, 200*time.Millisecond).Should(Succeed())

	// Every component listens on loopback only.
	for name, pid := range pids {
		addrs := listeningAddrs(t, pid)
		g.Expect(addrs).NotTo(BeEmpty(), "%s (pid %d) listens nowhere: is it running?", name, pid)
		for _, addr := range addrs {
			g.Expect(addr).To(HavePrefix("127.0.0.1:"), "%s (pid %d) listens on %s", name, pid, addr)
		}
	}

	runScript(t, time.Minute, env, "hack/local-cluster.sh", "down")
	downed = true
	requireGone(t, pids)
	g.Expect(cluster.dir()).NotTo(BeADirectory())
}

func mustCIDR(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}
