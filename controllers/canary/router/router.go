// Package router moves traffic between a Canary's primary and canary through
// the provider the Canary names (spec.provider): one Router per provider, each
// in its own file, all writing by server-side apply with one field manager so
// that fields other managers set on our objects survive.
package router

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// FieldManager is the server-side apply field manager of every write of this
// package.
const FieldManager = "sluice-canary"

// Routes is a traffic split between a Canary's primary and canary.
type Routes struct {
	// PrimaryWeight and CanaryWeight are percents of the traffic that does not
	// match spec.analysis.match; they sum to 100.
	PrimaryWeight, CanaryWeight int32
	// Mirror sends a copy of the split rule's requests to the canary
	// (spec.analysis.mirror, mirrorWeight percent of them); the copies'
	// answers are discarded. With CanaryWeight 0 (how runs use it) that is a
	// copy of all primary-bound traffic.
	Mirror bool
	// Match, when true, sends the requests matching spec.analysis.match to the
	// canary (A/B); the weights still split the others, so an A/B run uses
	// {PrimaryWeight: 100, Match: true}.
	Match bool
}

// AllPrimary is the split of a Canary at rest: everything to the primary.
var AllPrimary = Routes{PrimaryWeight: 100}

func (r Routes) String() string {
	return fmt.Sprintf("primary=%d canary=%d mirror=%t match=%t", r.PrimaryWeight, r.CanaryWeight, r.Mirror, r.Match)
}

// validateWeights rejects weights out of 0..100 or not summing to 100.
func (r Routes) validateWeights() error {
	if r.PrimaryWeight < 0 || r.CanaryWeight < 0 || r.PrimaryWeight+r.CanaryWeight != 100 {
		return fmt.Errorf("routes %s: weights must be 0 to 100 and sum to 100", r)
	}
	return nil
}

// validateFor also rejects what the Canary cannot express: a match without
// spec.analysis.match (a rule without conditions would send everything to
// the canary) and what the provider does not support.
func (r Routes) validateFor(c *meshv1alpha1.Canary, canMatch, canMirror bool) error {
	if err := r.validateWeights(); err != nil {
		return err
	}
	if r.Match && !canMatch {
		return fmt.Errorf("routes %s: provider %s does not support header or query matching", r, c.Spec.Provider)
	}
	if r.Match && len(c.Spec.Analysis.Match) == 0 {
		return fmt.Errorf("routes %s: Canary %s/%s has no spec.analysis.match", r, c.Namespace, c.Name)
	}
	if r.Mirror && !canMirror {
		return fmt.Errorf("routes %s: provider %s does not support mirroring", r, c.Spec.Provider)
	}
	return nil
}

// sanitizedFor is what Reconcile keeps of a split read back from the
// provider: the weights, and Match and Mirror only while the Canary can
// still express them.
func (r Routes) sanitizedFor(c *meshv1alpha1.Canary, canMatch, canMirror bool) Routes {
	if r.validateWeights() != nil {
		return AllPrimary
	}
	r.Match = r.Match && canMatch && len(c.Spec.Analysis.Match) > 0
	r.Mirror = r.Mirror && canMirror
	return r
}

// Router shifts traffic for one provider.
type Router interface {
	// Reconcile creates or updates the Services (see Services) and the
	// provider's route objects for the Canary (all traffic to the primary
	// when they do not exist yet) WITHOUT changing the current split of
	// existing ones.
	Reconcile(ctx context.Context, c *meshv1alpha1.Canary) error
	// Routes reads the current split from the provider's objects. A missing
	// object is an error for which apierrors.IsNotFound is true.
	Routes(ctx context.Context, c *meshv1alpha1.Canary) (Routes, error)
	// SetRoutes writes a split. A split the provider or the Canary cannot
	// express is an error and nothing is written.
	SetRoutes(ctx context.Context, c *meshv1alpha1.Canary, r Routes) error
	// Finalize is called on Canary deletion after traffic went back to the
	// primary: it points the apex Service back at the target workload (an
	// adopted apex gets its original selector back) and, when remove is true
	// (spec.revertOnDeletion), deletes the route objects and the Services
	// `<app>-primary` and `<app>-canary` we created; when false it drops our
	// owner references from them so that garbage collection leaves them in
	// place. The apex Service is never deleted. Order: apex, route objects,
	// then Services, so that no route points at a deleted Service. Safe to
	// call again after an error.
	Finalize(ctx context.Context, c *meshv1alpha1.Canary, remove bool) error
}

// Options tune every Router.
type Options struct {
	// SelectorLabels are the pod label keys that select a workload's pods,
	// in order of preference; the first one found on the target's pod
	// template is used. Default: DefaultSelectorLabels.
	SelectorLabels []string
	// LiveReader reads the apex Service straight from the API server (a
	// manager's APIReader). Typed reads of built-in kinds travel as
	// protobuf, cheaper to decode than the unstructured JSON read used
	// without it, on every switch of a blue/green Canary.
	LiveReader client.Reader
}

// DefaultSelectorLabels are the selector label keys Flagger users know.
var DefaultSelectorLabels = []string{"app", "name", "app.kubernetes.io/name"}

// New returns the Router for provider; an empty provider is the default
// (sluice), an unknown one is an error. The client must reach the provider's
// kinds (HTTPRoute, VirtualService, DestinationRule, TrafficSplit): route
// objects are read as unstructured, so its scheme needs only the built-in
// kinds and Sluice's.
func New(provider meshv1alpha1.Provider, c client.Client, opts Options) (Router, error) {
	services := NewServices(c, opts)
	switch provider {
	case meshv1alpha1.ProviderSluice, "":
		return &HTTPRouteRouter{client: c, services: services, flavour: meshFlavour}, nil
	case meshv1alpha1.ProviderLinkerd:
		return &HTTPRouteRouter{client: c, services: services, flavour: linkerdFlavour}, nil
	case meshv1alpha1.ProviderGatewayAPI:
		return &HTTPRouteRouter{client: c, services: services, flavour: gatewayFlavour}, nil
	case meshv1alpha1.ProviderIstio:
		return &IstioRouter{client: c, services: services}, nil
	case meshv1alpha1.ProviderSMI:
		return &SMIRouter{client: c, services: services}, nil
	case meshv1alpha1.ProviderKubernetes:
		return &KubernetesRouter{services: services}, nil
	default:
		return nil, fmt.Errorf("unknown canary provider %q", provider)
	}
}

// Names of the Services of a Canary, derived from its target's name.
func apexName(c *meshv1alpha1.Canary) string    { return c.Spec.TargetRef.Name }
func primaryName(c *meshv1alpha1.Canary) string { return c.Spec.TargetRef.Name + "-primary" }
func canaryName(c *meshv1alpha1.Canary) string  { return c.Spec.TargetRef.Name + "-canary" }

// errUnreadable marks a route object that exists but does not hold a split
// we wrote (e.g. made by hand or by another tool): Routes fails, Reconcile
// takes it over with all traffic to the primary.
type errUnreadable struct{ msg string }

func (e *errUnreadable) Error() string { return e.msg }

func unreadable(format string, args ...any) error {
	return &errUnreadable{msg: fmt.Sprintf(format, args...)}
}

func isUnreadable(err error) bool {
	var u *errUnreadable
	return errors.As(err, &u)
}

// keptSplit is the split a Reconcile rewrites the route object with, from
// what Routes read: the current one, so a spec change never moves traffic,
// or all to the primary when there is no object or none we wrote.
func keptSplit(current Routes, err error) (Routes, error) {
	switch {
	case err == nil:
		return current, nil
	case apierrors.IsNotFound(err), isUnreadable(err):
		return AllPrimary, nil
	default:
		return Routes{}, err
	}
}
