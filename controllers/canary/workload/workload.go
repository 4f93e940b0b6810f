// Package workload manages the workloads of a Canary: the target (the
// user's Deployment, which runs the canary during a run and sits at zero
// replicas between runs) and the primary, `<target>-primary`, a copy that
// serves production traffic and changes only when a revision is promoted.
//
// It also keeps the primary's own copies of the ConfigMaps and Secrets the
// target's pod template references (`<name>-primary`), so that a config
// change reaches the primary only by promotion, and a copy of the target's
// HorizontalPodAutoscaler for the primary. Everything it creates is
// controlled by the Canary and written by server-side apply with field
// manager FieldManager, so fields other managers own (an autoscaler's
// replicas, a user's extra labels) survive.
//
// Only Deployments are supported. Another kind (StatefulSet, DaemonSet)
// would add its own file beside deployment.go with the same reads and
// builds, selected in target.go; the exported API does not name the kind.
package workload

import (
	"errors"

	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
	"github.com/sluicemesh/sluice/controllers/canary/router"
)

// FieldManager is the server-side apply field manager of every write of this
// package; the same as the router's, so one Canary has one manager name.
const FieldManager = router.FieldManager

// ErrTargetNotFound: the Canary's target workload does not exist (condition
// reason TargetNotFound).
var ErrTargetNotFound = errors.New("target workload not found")

// ErrSelectorLabelMissing: the target's pod template has none of the
// selector label keys (condition reason SelectorLabelMissing). It is the
// router's error, so one errors.Is check covers both packages; the wrapping
// message names the keys looked for.
var ErrSelectorLabelMissing = router.ErrSelectorLabelMissing

// ErrNotOurs: an object we would write (the primary, a config copy, the
// primary's autoscaler) exists and is not ours: controlled by another owner,
// or never made by a Canary of this name (a user's own object that happens
// to have the name). We do not take it over.
var ErrNotOurs = errors.New("exists and is not this Canary's")

// CanaryAnnotation names the Canary on every object this package creates.
// An object that has it but no controller (left in place by a Canary deleted
// without revertOnDeletion) is adopted by the next Canary of that name; one
// without it is never overwritten.
const CanaryAnnotation = "sluice.dev/canary"

// DefaultSelectorLabels are the selector label keys looked for when
// Options.SelectorLabels is empty, in order.
var DefaultSelectorLabels = router.DefaultSelectorLabels

// Options configure Workloads.
type Options struct {
	// SelectorLabels are the pod label keys that select a workload's pods,
	// in order of preference (the manager flag); the first one found on the
	// target's pod template is rewritten for the primary. Use the same list
	// as the router's Options. Default: DefaultSelectorLabels.
	SelectorLabels []string

	// Reader, when set, serves every read instead of the client. Pass the
	// manager's API reader: the manager then does not cache every ConfigMap
	// and Secret of the cluster, and reads are never stale (a cached target
	// read just after ScaleTarget could still show zero replicas and look
	// ready). Default: the client.
	Reader client.Reader
	// Cache, when set with Reader, serves Deployment reads once it holds
	// our own last write to them (see generations): pass the manager's
	// cached client, which watches Deployments anyway.
	Cache client.Reader
}

// Workloads does the workload side of a Canary's lifecycle. It keeps no
// state between calls: everything is read from the cluster.
type Workloads struct {
	client         client.Client
	reader         client.Reader
	cache          client.Reader
	generations    generations
	selectorLabels []string
}

// New returns Workloads writing through c.
func New(c client.Client, opts Options) *Workloads {
	w := &Workloads{client: c, reader: opts.Reader, cache: opts.Cache, selectorLabels: opts.SelectorLabels}
	if w.reader == nil {
		w.reader = c
	}
	if len(w.selectorLabels) == 0 {
		w.selectorLabels = DefaultSelectorLabels
	}
	return w
}

// PrimaryName is the name of the primary workload (and of its Service).
func PrimaryName(c *meshv1alpha1.Canary) string { return primaryCopyName(c.Spec.TargetRef.Name) }

// primaryCopyName is the name of the primary's copy of an object.
func primaryCopyName(name string) string { return name + "-primary" }
