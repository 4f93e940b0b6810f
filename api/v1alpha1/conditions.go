package v1alpha1

// Condition types shared by Mesh, Canary and Policy. They follow kstatus:
// Ready says the object does what it asks for, Reconciling that the operator
// is still working towards it, Stalled that it cannot get there without a
// change from the user (an invalid spec, a missing target, missing
// permissions). Promoted and Accepted are domain conditions of Canary and
// Policy.
const (
	// ConditionReady is True when the object is fully in effect. For a Canary:
	// only in phase Initialized or Succeeded.
	ConditionReady = "Ready"

	// ConditionReconciling is True while the operator is changing the cluster
	// to match the spec (a rollout in progress, a proxy upgrade batch).
	ConditionReconciling = "Reconciling"

	// ConditionStalled is True when progress needs a change from the user;
	// its reason says what to change.
	ConditionStalled = "Stalled"

	// ConditionPromoted is True on a Canary whose primary runs the latest
	// revision that passed analysis, False after a rollback.
	ConditionPromoted = "Promoted"

	// ConditionAccepted is True on a Policy the proxies apply, False when it
	// cannot be applied (for example another Policy already targets the
	// Service).
	ConditionAccepted = "Accepted"
)

// Condition reasons: CamelCase words a user can search for.
const (
	// ReasonSucceeded: the last operation finished as asked.
	ReasonSucceeded = "Succeeded"
	// ReasonProgressing: work is under way.
	ReasonProgressing = "Progressing"
	// ReasonInitialized: a Canary created its primary and routes all traffic to it.
	ReasonInitialized = "Initialized"
	// ReasonWaiting: a gate (confirm-* webhook or manual action) is closed.
	ReasonWaiting = "Waiting"
	// ReasonRolledBack: analysis failed and traffic went back to the primary.
	ReasonRolledBack = "RolledBack"
	// ReasonProgressDeadlineExceeded: the canary did not become ready in time.
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	// ReasonGateTimeout: a confirm-* gate stayed closed longer than its gateTimeout.
	ReasonGateTimeout = "GateTimeout"
	// ReasonSuspended: spec.suspend is true.
	ReasonSuspended = "Suspended"
	// ReasonTargetNotFound: the Canary's target workload or a Policy's Service
	// does not exist.
	ReasonTargetNotFound = "TargetNotFound"
	// ReasonSelectorLabelMissing: the target's selector has none of the labels
	// the operator rewrites for the primary.
	ReasonSelectorLabelMissing = "SelectorLabelMissing"
	// ReasonRouteAPIMissing: the CRDs of the Canary's provider (Gateway API,
	// Istio, SMI) are not installed in the cluster.
	ReasonRouteAPIMissing = "RouteAPIMissing"
	// ReasonMetricTemplateNotFound: a metric's templateRef names no template of
	// the Mesh default.
	ReasonMetricTemplateNotFound = "MetricTemplateNotFound"
	// ReasonSecretNotFound: a referenced Secret (metrics server auth, trust
	// anchor) does not exist or lacks the expected keys.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonMetricsServerUnavailable: the Prometheus server cannot be queried.
	ReasonMetricsServerUnavailable = "MetricsServerUnavailable"
	// ReasonConflicted: another Policy already targets the same Service; the
	// oldest wins.
	ReasonConflicted = "Conflicted"
	// ReasonInvalidSpec: the spec passed admission but cannot be acted on.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonUpgradeGateFailed: analysis between proxy upgrade batches failed.
	ReasonUpgradeGateFailed = "UpgradeGateFailed"
)
