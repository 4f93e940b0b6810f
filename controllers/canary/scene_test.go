package canary

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/controllers/canary/router"
	"github.com/sluicemesh/sluice/test/prometheus"
)

// scene is one test's namespace with a target Deployment `app`, a Canary
// for it, a Deployment controller played by the test and a Canary
// reconciler on a fake clock that the test steps.
type scene struct {
	t           *testing.T
	g           *WithT
	ns          string
	clock       *clocktesting.FakeClock
	deployments *deploymentController
	opts        Options
	mgr         *manager
	ticks       int
}

// seriesStart is when the backfilled Prometheus series of a test begin
// (promtool writes blocks for past data only); the fake clock starts ten
// minutes later so that rates over 1m have data.
func seriesStart() time.Time { return time.Now().Add(-3 * time.Hour).Truncate(time.Minute) }

func newScene(t *testing.T, start time.Time, opts Options) *scene {
	requireEnv(t)
	s := &scene{t: t, g: NewWithT(t), ns: env.NewNamespace(t), clock: newClock(start.Add(10 * time.Minute))}
	s.g.SetDefaultEventuallyTimeout(20 * time.Second)
	s.g.SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	s.deployments = runDeploymentController(t, s.ns)
	opts.Clock = s.clock
	s.opts = opts
	s.mgr = startManager(t, s.ns, opts)
	return s
}

// restartManager stops the reconciler and starts a new one (same clock and
// options), as a new leader after a crash would.
func (s *scene) restartManager() {
	s.mgr.stop()
	s.mgr = startManager(s.t, s.ns, s.opts)
}

// createTarget creates the Deployment `app` running image with replicas.
func (s *scene) createTarget(replicas int32, image string) {
	s.createNamedTarget("app", replicas, image)
}

func (s *scene) createNamedTarget(name string, replicas int32, image string) {
	s.t.Helper()
	labels := map[string]string{"app": name}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
	s.g.Expect(env.Client.Create(context.Background(), dep)).To(Succeed())
}

// createCanary creates the Canary `app` (stepWeight 10 up to 50, interval
// 1m, threshold 2, no metrics) after mutate changes its spec.
func (s *scene) createCanary(mutate func(*meshv1alpha1.CanarySpec)) {
	s.createNamedCanary("app", mutate)
}

func (s *scene) createNamedCanary(name string, mutate func(*meshv1alpha1.CanarySpec)) {
	s.t.Helper()
	c := &meshv1alpha1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns},
		Spec: meshv1alpha1.CanarySpec{
			TargetRef: meshv1alpha1.TargetReference{Name: name},
			Service:   meshv1alpha1.CanaryService{Port: 80, TargetPort: ptr.To(intstr.FromInt32(8080))},
			Analysis: meshv1alpha1.CanaryAnalysis{
				Interval:   &metav1.Duration{Duration: time.Minute},
				Threshold:  2,
				StepWeight: ptr.To[int32](10),
				MaxWeight:  ptr.To[int32](50),
			},
		},
	}
	if mutate != nil {
		mutate(&c.Spec)
	}
	s.g.Expect(env.Client.Create(context.Background(), c)).To(Succeed())
}

// bootstrap creates target (2 replicas of app:1) and Canary and waits for
// Initialized.
func (s *scene) bootstrap(mutate func(*meshv1alpha1.CanarySpec)) {
	s.t.Helper()
	s.createTarget(2, "example.com/app:1")
	s.createCanary(mutate)
	s.g.Eventually(s.phase).Should(Equal(meshv1alpha1.CanaryPhaseInitialized))
}

func (s *scene) canary() *meshv1alpha1.Canary { return s.named("app") }

func (s *scene) named(name string) *meshv1alpha1.Canary {
	c := &meshv1alpha1.Canary{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, c); err != nil {
		s.t.Logf("get Canary: %v", err)
		return &meshv1alpha1.Canary{}
	}
	return c
}

func (s *scene) phase() meshv1alpha1.CanaryPhase { return s.canary().Status.Phase }
func (s *scene) weight() int32                   { return s.canary().Status.CanaryWeight }
func (s *scene) failedChecks() int32             { return s.canary().Status.FailedChecks }

// state is phase and weight, e.g. "Progressing/20", for Eventually.
func (s *scene) state() string {
	c := s.canary()
	return fmt.Sprintf("%s/%d", c.Status.Phase, c.Status.CanaryWeight)
}

func (s *scene) condition(typ string) string {
	c := meta.FindStatusCondition(s.canary().Status.Conditions, typ)
	if c == nil {
		return "unset"
	}
	return string(c.Status) + "/" + c.Reason
}

func (s *scene) deployment(name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, d); err != nil {
		return &appsv1.Deployment{}
	}
	return d
}

func (s *scene) replicas(name string) func() int32 {
	return func() int32 { return ptr.Deref(s.deployment(name).Spec.Replicas, -1) }
}

func (s *scene) image(name string) string {
	d := s.deployment(name)
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return ""
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// setImage changes the target's image: a new revision.
func (s *scene) setImage(image string) { s.setNamedImage("app", image) }

func (s *scene) setNamedImage(name, image string) {
	s.t.Helper()
	d := s.deployment(name)
	before := d.DeepCopy()
	d.Spec.Template.Spec.Containers[0].Image = image
	s.g.Expect(env.Client.Patch(context.Background(), d, client.MergeFrom(before))).To(Succeed())
}

// annotate sets an annotation of the Canary (the action annotation, or a
// test mark that makes the reconciler look again).
func (s *scene) annotate(key, value string) {
	s.t.Helper()
	c := s.canary()
	before := c.DeepCopy()
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[key] = value
	s.g.Expect(env.Client.Patch(context.Background(), c, client.MergeFrom(before))).To(Succeed())
}

// tick steps the fake clock and touches the Canary so that the reconciler
// looks at it at the new time (its RequeueAfter runs on the real clock).
func (s *scene) tick(d time.Duration) {
	s.t.Helper()
	s.clock.Step(d)
	s.ticks++
	s.annotate("test.sluice.dev/tick", strconv.Itoa(s.ticks))
}

// routes reads the split from the route object.
func (s *scene) routes() string {
	c := s.canary()
	rt, err := router.New(c.Spec.Provider, env.Client, router.Options{})
	if err != nil {
		return err.Error()
	}
	r, err := rt.Routes(context.Background(), c)
	if err != nil {
		return err.Error()
	}
	return r.String()
}

// events are the Canary's Events as "Type/Reason: note".
func (s *scene) events() []string {
	var list eventsv1.EventList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(s.ns)); err != nil {
		return []string{"list: " + err.Error()}
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "Canary" {
			out = append(out, e.Type+"/"+e.Reason+": "+e.Note)
		}
	}
	return out
}

// hasEvent says whether an Event starts with prefix ("Warning/RolledBack")
// and contains every one of words.
func (s *scene) hasEvent(prefix string, words ...string) func() bool {
	return func() bool {
	next:
		for _, e := range s.events() {
			if !strings.HasPrefix(e, prefix) {
				continue
			}
			for _, w := range words {
				if !strings.Contains(e, w) {
					continue next
				}
			}
			return true
		}
		return false
	}
}

// startRun changes the image and waits for the first weight.
func (s *scene) startRun(image string, firstWeight int32) {
	s.t.Helper()
	s.setImage(image)
	s.g.Eventually(s.state).Should(Equal(fmt.Sprintf("Progressing/%d", firstWeight)))
}

// traffic is backfilled inbound traffic of workload `app` in the scene's
// namespace as Sluice proxies count it: success and failure requests every
// 15s for two hours from start.
func (s *scene) traffic(start time.Time, success, failure float64) []prometheus.Sample {
	var samples []prometheus.Sample
	base := map[string]string{"direction": "inbound", "namespace": s.ns, "workload": "app", "pod": "app-1", "service": "app", "tls": "true"}
	for i := 0; i <= 480; i++ {
		at := start.Add(time.Duration(i) * 15 * time.Second)
		ok := with(base, map[string]string{"classification": "success", "status_code": "200"})
		samples = append(samples, prometheus.Sample{Metric: "sluice_requests_total", Labels: ok, Value: success * float64(i), Time: at})
		if failure > 0 {
			bad := with(base, map[string]string{"classification": "failure", "status_code": "503"})
			samples = append(samples, prometheus.Sample{Metric: "sluice_requests_total", Labels: bad, Value: failure * float64(i), Time: at})
		}
	}
	return samples
}

func with(base, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// successRate is the builtin success-rate metric with a minimum of 99%.
func successRate(spec *meshv1alpha1.CanarySpec) {
	spec.Analysis.Metrics = []meshv1alpha1.AnalysisMetric{{
		Name:           meshv1alpha1.MetricRequestSuccessRate,
		ThresholdRange: meshv1alpha1.ThresholdRange{Min: ptr.To(resourceQuantity("99"))},
	}}
}
