package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// CanaryPhase is where a Canary is in its lifecycle.
// +kubebuilder:validation:Enum=Initializing;Initialized;Queued;Waiting;Progressing;WaitingPromotion;Promoting;Finalising;Succeeded;Failed;Terminating;Terminated
type CanaryPhase string

const (
	// CanaryPhaseInitializing: the primary and Services are being created.
	CanaryPhaseInitializing CanaryPhase = "Initializing"
	// CanaryPhaseInitialized: the primary serves all traffic; waiting for a
	// new revision.
	CanaryPhaseInitialized CanaryPhase = "Initialized"
	// CanaryPhaseQueued: a new revision waits for a free slot (the manager
	// limits how many canaries progress at once).
	CanaryPhaseQueued CanaryPhase = "Queued"
	// CanaryPhaseWaiting: a confirm-rollout gate is closed, or the run is
	// paused.
	CanaryPhaseWaiting CanaryPhase = "Waiting"
	// CanaryPhaseProgressing: analysis is running and traffic is moving.
	CanaryPhaseProgressing CanaryPhase = "Progressing"
	// CanaryPhaseWaitingPromotion: analysis passed; a confirm-promotion gate is
	// closed.
	CanaryPhaseWaitingPromotion CanaryPhase = "WaitingPromotion"
	// CanaryPhasePromoting: the canary's spec is being copied to the primary.
	CanaryPhasePromoting CanaryPhase = "Promoting"
	// CanaryPhaseFinalising: all traffic is back on the (promoted) primary and
	// the canary is being scaled to zero.
	CanaryPhaseFinalising CanaryPhase = "Finalising"
	// CanaryPhaseSucceeded: the revision was promoted.
	CanaryPhaseSucceeded CanaryPhase = "Succeeded"
	// CanaryPhaseFailed: the revision was rolled back; the primary serves.
	CanaryPhaseFailed CanaryPhase = "Failed"
	// CanaryPhaseTerminating: the Canary is being deleted and the target
	// restored.
	CanaryPhaseTerminating CanaryPhase = "Terminating"
	// CanaryPhaseTerminated: the target is restored; the Canary is about to go.
	CanaryPhaseTerminated CanaryPhase = "Terminated"
)

// MetricResult is the outcome of one metric check.
// +kubebuilder:validation:Enum=Passed;Failed;Held
type MetricResult string

const (
	// MetricPassed: the value is within the threshold range.
	MetricPassed MetricResult = "Passed"
	// MetricFailed: the value is outside the range, or there was no value (no
	// data, NaN, a query error or timeout).
	MetricFailed MetricResult = "Failed"
	// MetricHeld: too few requests (below minRequests) to judge; the check
	// neither passed nor failed.
	MetricHeld MetricResult = "Held"
)

// MetricsServerSource says where the Prometheus address in use came from.
// +kubebuilder:validation:Enum=Canary;Mesh;ManagerFlag
type MetricsServerSource string

const (
	// MetricsServerFromCanary: spec.analysis.metricsServer of the Canary.
	MetricsServerFromCanary MetricsServerSource = "Canary"
	// MetricsServerFromMesh: spec.metrics.server of the Mesh default.
	MetricsServerFromMesh MetricsServerSource = "Mesh"
	// MetricsServerFromManagerFlag: the manager's --metrics-server flag.
	MetricsServerFromManagerFlag MetricsServerSource = "ManagerFlag"
)

// CanaryStatus is what the operator observed and did.
type CanaryStatus struct {
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase is where the Canary is in its lifecycle.
	// +optional
	Phase CanaryPhase `json:"phase,omitempty"`

	// CanaryWeight is the percent of traffic the canary receives now. Always
	// written, so `kubectl get` shows 0 rather than an empty column.
	// +optional
	CanaryWeight int32 `json:"canaryWeight"`

	// FailedChecks counts the failed checks of the current run. Always written.
	// +optional
	FailedChecks int32 `json:"failedChecks"`

	// Iterations counts the passed checks of the current A/B or blue/green
	// run.
	// +optional
	Iterations int32 `json:"iterations,omitempty"`

	// LastAppliedSpec is the hash of the target's pod template (ignoring
	// sluice.dev/* annotations) that the current or last run is about.
	// +optional
	LastAppliedSpec string `json:"lastAppliedSpec,omitempty"`

	// LastPromotedSpec is the hash of the pod template the primary runs.
	// +optional
	LastPromotedSpec string `json:"lastPromotedSpec,omitempty"`

	// TrackedConfigs are the checksums of the ConfigMaps and Secrets the
	// target's pod template references, keyed `ConfigMap/<name>` or
	// `Secret/<name>`; a change starts a new run.
	// +optional
	TrackedConfigs map[string]string `json:"trackedConfigs,omitempty"`

	// LastTransitionTime is when the phase last changed.
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`

	// LastAnalysisTime is when the last check ran; the next one is due one
	// interval later, also after a restart of the manager.
	// +optional
	LastAnalysisTime *metav1.Time `json:"lastAnalysisTime,omitempty"`

	// Prometheus is the metrics server the analysis uses.
	// +optional
	Prometheus *PrometheusStatus `json:"prometheus,omitempty"`

	// Metrics is the last result of each metric check.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Metrics []MetricStatus `json:"metrics,omitempty"`

	// Conditions: Ready (True only in phase Initialized or Succeeded),
	// Reconciling, Stalled and Promoted.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// PrometheusStatus is the metrics server a Canary's analysis uses.
type PrometheusStatus struct {
	// Address of the server.
	// +optional
	Address string `json:"address,omitempty"`

	// Source of the address: Canary, Mesh or ManagerFlag.
	// +optional
	Source MetricsServerSource `json:"source,omitempty"`
}

// MetricStatus is the last result of one metric check.
type MetricStatus struct {
	// Name of the metric (spec.analysis.metrics[].name).
	// +required
	Name string `json:"name"`

	// Value is the last value read, as text; empty when there was none.
	// +optional
	Value string `json:"value,omitempty"`

	// ThresholdRange the value was compared with.
	// +optional
	ThresholdRange *ThresholdRange `json:"thresholdRange,omitempty"`

	// Result of the check: Passed, Failed or Held.
	// +optional
	Result MetricResult `json:"result,omitempty"`

	// Message explains the result, e.g. "no data" or "12 requests, below
	// minRequests 50".
	// +optional
	Message string `json:"message,omitempty"`

	// LastCheckTime is when the value was read.
	// +optional
	LastCheckTime *metav1.Time `json:"lastCheckTime,omitempty"`
}
