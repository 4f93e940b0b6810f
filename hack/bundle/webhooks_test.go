package main

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

func TestCheckRulesOLMAccepts(t *testing.T) {
	rule := func(groups, resources []string) []admissionregistrationv1.RuleWithOperations {
		return []admissionregistrationv1.RuleWithOperations{{Rule: admissionregistrationv1.Rule{APIGroups: groups, Resources: resources}}}
	}
	cases := []struct {
		name  string
		rules []admissionregistrationv1.RuleWithOperations
		ok    bool
	}{
		{"our kinds", rule([]string{"mesh.sluice.dev"}, []string{"canaries"}), true},
		{"pods", rule([]string{""}, []string{"pods"}), true},
		{"every group", rule([]string{"*"}, []string{"canaries"}), false},
		{"OLM's group", rule([]string{"operators.coreos.com"}, []string{"subscriptions"}), false},
		{"webhook configurations", rule([]string{"admissionregistration.k8s.io"}, []string{"validatingwebhookconfigurations"}), false},
		{"every resource", rule([]string{"apps"}, []string{"*"}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := checkRulesOLMAccepts(tc.rules); (err == nil) != tc.ok {
				t.Errorf("checkRulesOLMAccepts = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
