package canary

import (
	"slices"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/controllers/canary/router"
	"github.com/sluicemesh/sluice/controllers/canary/workload"
)

func TestWeightSteps(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    meshv1alpha1.CanaryAnalysis
		want []int32
	}{
		{"stepWeight divides the default maxWeight", meshv1alpha1.CanaryAnalysis{StepWeight: ptr.To[int32](25)}, []int32{25, 50, 75, 100}},
		{"stepWeight up to maxWeight", meshv1alpha1.CanaryAnalysis{StepWeight: ptr.To[int32](10), MaxWeight: ptr.To[int32](50)}, []int32{10, 20, 30, 40, 50}},
		{"last step capped at maxWeight", meshv1alpha1.CanaryAnalysis{StepWeight: ptr.To[int32](30), MaxWeight: ptr.To[int32](80)}, []int32{30, 60, 80}},
		{"stepWeight equal to maxWeight", meshv1alpha1.CanaryAnalysis{StepWeight: ptr.To[int32](50), MaxWeight: ptr.To[int32](50)}, []int32{50}},
		{"stepWeights as written", meshv1alpha1.CanaryAnalysis{StepWeights: []int32{1, 5, 10, 25, 50}}, []int32{1, 5, 10, 25, 50}},
		{"iterations have no weights", meshv1alpha1.CanaryAnalysis{Iterations: ptr.To[int32](3)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := weightSteps(tc.a); !slices.Equal(got, tc.want) {
				t.Errorf("weightSteps = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNextWeight(t *testing.T) {
	a := meshv1alpha1.CanaryAnalysis{StepWeight: ptr.To[int32](30), MaxWeight: ptr.To[int32](80)}
	for _, tc := range []struct {
		current, want int32
		more          bool
	}{{0, 30, true}, {30, 60, true}, {60, 80, true}, {80, 80, false}} {
		if got, more := nextWeight(a, tc.current); got != tc.want || more != tc.more {
			t.Errorf("nextWeight(%d) = %d, %t; want %d, %t", tc.current, got, more, tc.want, tc.more)
		}
	}
}

func TestRunRoutes(t *testing.T) {
	weighted := &meshv1alpha1.Canary{Spec: meshv1alpha1.CanarySpec{Analysis: meshv1alpha1.CanaryAnalysis{StepWeight: ptr.To[int32](10)}}}
	ab := &meshv1alpha1.Canary{Spec: meshv1alpha1.CanarySpec{Analysis: meshv1alpha1.CanaryAnalysis{
		Iterations: ptr.To[int32](3), Match: []meshv1alpha1.CanaryMatch{{}}}}}
	blueGreen := &meshv1alpha1.Canary{Spec: meshv1alpha1.CanarySpec{Analysis: meshv1alpha1.CanaryAnalysis{
		Iterations: ptr.To[int32](3), Mirror: true}}}
	for _, tc := range []struct {
		name string
		c    *meshv1alpha1.Canary
		want router.Routes
	}{
		{"weighted 20", weighted, router.Routes{PrimaryWeight: 80, CanaryWeight: 20}},
		{"A/B", ab, router.Routes{PrimaryWeight: 100, Match: true}},
		{"blue/green mirrored", blueGreen, router.Routes{PrimaryWeight: 100, Mirror: true}},
	} {
		if got := runRoutes(tc.c, 20); got != tc.want {
			t.Errorf("%s: runRoutes = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestUntilDue_ComesFromStatusNotMemory(t *testing.T) {
	last := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	if got := untilDue(last, time.Minute, last.Add(20*time.Second)); got != 40*time.Second {
		t.Errorf("20s after the last check: %s to wait, want 40s", got)
	}
	if got := untilDue(last, time.Minute, last.Add(time.Minute)); got > 0 {
		t.Errorf("one interval after the last check: %s to wait, want due", got)
	}
}

func TestCanaryReplicas(t *testing.T) {
	for _, tc := range []struct{ primary, weight, want int32 }{{10, 10, 1}, {10, 25, 3}, {4, 1, 1}, {3, 100, 3}, {0, 50, 1}} {
		if got := canaryReplicas(tc.primary, tc.weight); got != tc.want {
			t.Errorf("canaryReplicas(%d, %d) = %d, want %d", tc.primary, tc.weight, got, tc.want)
		}
	}
}

func TestClassifyRevision(t *testing.T) {
	cm := map[string]string{"ConfigMap/app": "a"}
	st := &meshv1alpha1.CanaryStatus{LastAppliedSpec: "bad", LastPromotedSpec: "good", TrackedConfigs: cm}
	for _, tc := range []struct {
		name string
		rev  workload.Revision
		want revisionChange
	}{
		{"the failed revision again", workload.Revision{Spec: "bad", Configs: cm}, revisionUnchanged},
		{"back to the primary's revision", workload.Revision{Spec: "good", Configs: cm}, revisionReverted},
		{"a new template", workload.Revision{Spec: "new", Configs: cm}, revisionNew},
		{"a changed config", workload.Revision{Spec: "bad", Configs: map[string]string{"ConfigMap/app": "b"}}, revisionNew},
		{"a changed config of the primary's template", workload.Revision{Spec: "good", Configs: map[string]string{"ConfigMap/app": "b"}}, revisionNew},
	} {
		if got := classifyRevision(st, tc.rev); got != tc.want {
			t.Errorf("%s: classifyRevision = %d, want %d", tc.name, got, tc.want)
		}
	}
	empty := &meshv1alpha1.CanaryStatus{LastAppliedSpec: "a", LastPromotedSpec: "a"}
	if got := classifyRevision(empty, workload.Revision{Spec: "a", Configs: map[string]string{}}); got != revisionUnchanged {
		t.Errorf("no configs, nil or empty: %d, want unchanged", got)
	}
}
