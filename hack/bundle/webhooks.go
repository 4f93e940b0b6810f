package main

import (
	"fmt"
	"sort"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// webhookDefinition is an entry of the CSV's spec.webhookdefinitions. From it
// OLM creates the webhook configuration, a Service named after the Deployment,
// and a certificate it mounts into the Deployment and injects as caBundle.
type webhookDefinition struct {
	Type                    string                                          `json:"type"`
	GenerateName            string                                          `json:"generateName"`
	DeploymentName          string                                          `json:"deploymentName"`
	ContainerPort           int32                                           `json:"containerPort"`
	TargetPort              *intstr.IntOrString                             `json:"targetPort,omitempty"`
	WebhookPath             *string                                         `json:"webhookPath,omitempty"`
	AdmissionReviewVersions []string                                        `json:"admissionReviewVersions"`
	SideEffects             *admissionregistrationv1.SideEffectClass        `json:"sideEffects"`
	FailurePolicy           *admissionregistrationv1.FailurePolicyType      `json:"failurePolicy,omitempty"`
	MatchPolicy             *admissionregistrationv1.MatchPolicyType        `json:"matchPolicy,omitempty"`
	ObjectSelector          *metav1.LabelSelector                           `json:"objectSelector,omitempty"`
	ReinvocationPolicy      *admissionregistrationv1.ReinvocationPolicyType `json:"reinvocationPolicy,omitempty"`
	Rules                   []admissionregistrationv1.RuleWithOperations    `json:"rules,omitempty"`
	TimeoutSeconds          *int32                                          `json:"timeoutSeconds,omitempty"`
}

// OLM's webhook types.
const (
	validatingWebhookType = "ValidatingAdmissionWebhook"
	mutatingWebhookType   = "MutatingAdmissionWebhook"
)

// webhookSettings are the fields validating and mutating webhooks share.
type webhookSettings struct {
	name                    string
	clientConfig            admissionregistrationv1.WebhookClientConfig
	admissionReviewVersions []string
	sideEffects             *admissionregistrationv1.SideEffectClass
	failurePolicy           *admissionregistrationv1.FailurePolicyType
	matchPolicy             *admissionregistrationv1.MatchPolicyType
	namespaceSelector       *metav1.LabelSelector
	objectSelector          *metav1.LabelSelector
	rules                   []admissionregistrationv1.RuleWithOperations
	timeoutSeconds          *int32
}

// webhookDefinitions converts the webhook configurations. It also returns the
// names of the Services they call (OLM makes its own, so those are not
// shipped) and warnings about settings OLM replaces.
func webhookDefinitions(r *renderedObjects) (defs []webhookDefinition, usedServices map[string]bool, warnings []string, err error) {
	usedServices = map[string]bool{}
	add := func(typ string, w webhookSettings, reinvocation *admissionregistrationv1.ReinvocationPolicyType) error {
		def, err := webhookDefinitionFor(r, typ, w)
		if err != nil {
			return fmt.Errorf("webhook %s: %w", w.name, err)
		}
		def.ReinvocationPolicy = reinvocation
		if w.namespaceSelector != nil {
			warnings = append(warnings, fmt.Sprintf(
				"webhook %s: OLM replaces its namespaceSelector with the OperatorGroup's namespaces", w.name))
		}
		usedServices[w.clientConfig.Service.Name] = true
		defs = append(defs, def)
		return nil
	}
	for _, c := range r.mutatingWebhooks {
		for _, w := range c.Webhooks {
			s := webhookSettings{w.Name, w.ClientConfig, w.AdmissionReviewVersions, w.SideEffects, w.FailurePolicy,
				w.MatchPolicy, w.NamespaceSelector, w.ObjectSelector, w.Rules, w.TimeoutSeconds}
			if err := add(mutatingWebhookType, s, w.ReinvocationPolicy); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	for _, c := range r.validatingWebhooks {
		for _, w := range c.Webhooks {
			s := webhookSettings{w.Name, w.ClientConfig, w.AdmissionReviewVersions, w.SideEffects, w.FailurePolicy,
				w.MatchPolicy, w.NamespaceSelector, w.ObjectSelector, w.Rules, w.TimeoutSeconds}
			if err := add(validatingWebhookType, s, nil); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	sort.SliceStable(defs, func(i, j int) bool {
		if defs[i].Type != defs[j].Type {
			return defs[i].Type < defs[j].Type
		}
		return defs[i].GenerateName < defs[j].GenerateName
	})
	return defs, usedServices, warnings, nil
}

func webhookDefinitionFor(r *renderedObjects, typ string, w webhookSettings) (webhookDefinition, error) {
	svcRef := w.clientConfig.Service
	if svcRef == nil {
		return webhookDefinition{}, fmt.Errorf("calls a URL; OLM can only route webhooks to a Service of the operator")
	}
	if err := checkRulesOLMAccepts(w.rules); err != nil {
		return webhookDefinition{}, err
	}
	port := int32(443)
	if svcRef.Port != nil {
		port = *svcRef.Port
	}
	svc, ok := findService(r.services, svcRef.Name)
	if !ok {
		return webhookDefinition{}, fmt.Errorf("calls Service %s, which is not in the rendered manifests", svcRef.Name)
	}
	target, err := targetPortOf(svc, port)
	if err != nil {
		return webhookDefinition{}, err
	}
	deployment, err := deploymentSelectedBy(r.deployments, svc)
	if err != nil {
		return webhookDefinition{}, err
	}
	return webhookDefinition{
		Type:                    typ,
		GenerateName:            w.name,
		DeploymentName:          deployment,
		ContainerPort:           port,
		TargetPort:              &target,
		WebhookPath:             svcRef.Path,
		AdmissionReviewVersions: w.admissionReviewVersions,
		SideEffects:             w.sideEffects,
		FailurePolicy:           w.failurePolicy,
		MatchPolicy:             w.matchPolicy,
		ObjectSelector:          w.objectSelector,
		Rules:                   w.rules,
		TimeoutSeconds:          w.timeoutSeconds,
	}, nil
}

// checkRulesOLMAccepts rejects what OLM refuses to install (the CSV would go
// to phase Failed): webhooks on every API group, on OLM's own group, or on
// webhook configurations, any of which could lock a cluster.
func checkRulesOLMAccepts(rules []admissionregistrationv1.RuleWithOperations) error {
	for _, rule := range rules {
		for _, g := range rule.APIGroups {
			if g == "*" || g == "operators.coreos.com" {
				return fmt.Errorf("intercepts API group %q, which OLM does not allow", g)
			}
		}
		for _, res := range rule.Resources {
			switch res {
			case "*", "*/*", "mutatingwebhookconfigurations", "validatingwebhookconfigurations":
				return fmt.Errorf("intercepts resource %q, which OLM does not allow", res)
			}
		}
	}
	return nil
}

func findService(services []corev1.Service, name string) (corev1.Service, bool) {
	for _, s := range services {
		if s.Name == name {
			return s, true
		}
	}
	return corev1.Service{}, false
}

// targetPortOf is where the Service sends port: the container port OLM's own
// Service must send to as well.
func targetPortOf(svc corev1.Service, port int32) (intstr.IntOrString, error) {
	for _, p := range svc.Spec.Ports {
		if p.Port == port {
			if p.TargetPort.IntValue() == 0 && p.TargetPort.Type == intstr.Int {
				return intstr.FromInt32(port), nil
			}
			return p.TargetPort, nil
		}
	}
	return intstr.IntOrString{}, fmt.Errorf("webhook Service %s has no port %d", svc.Name, port)
}

// deploymentSelectedBy finds the one Deployment whose pods the Service selects.
func deploymentSelectedBy(deployments []*unstructured.Unstructured, svc corev1.Service) (string, error) {
	if len(svc.Spec.Selector) == 0 {
		return "", fmt.Errorf("webhook Service %s has no selector", svc.Name)
	}
	selector := labels.SelectorFromSet(svc.Spec.Selector)
	var found []string
	for _, u := range deployments {
		d, err := typedDeployment(u)
		if err != nil {
			return "", err
		}
		if selector.Matches(labels.Set(d.Spec.Template.Labels)) {
			found = append(found, d.Name)
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("webhook Service %s selects the pods of %d Deployments %v; OLM needs exactly one", svc.Name, len(found), found)
	}
	return found[0], nil
}
