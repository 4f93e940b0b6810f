// Package analysis runs the metric checks of a Canary against Prometheus. The Canary reconciler owns time
// and state; each analysis interval it calls, in one pass:
//
//	server, err := analysis.ResolveServer(ctx, reader, canary, mesh, flagAddress) // Canary > Mesh > flag
//	if server.Address != "" {
//		canary.Status.Prometheus = server.Status()
//	}
//	var results []analysis.Result
//	if err == nil {
//		var checker *analysis.Checker
//		if checker, err = checkers.For(server); err == nil { // checkers: one analysis.Checkers per manager
//			results = checker.Check(ctx, canary, mesh, now)
//		}
//	}
//	if err != nil {
//		results = analysis.Unavailable(canary, err, now) // every metric Failed, saying why
//	}
//	analysis.RecordMetrics(&canary.Status, results)
//	switch analysis.Overall(results) {
//	case Passed: // next weight or iteration
//	case Held: // too little traffic to judge: keep the weight, count nothing
//	case Failed: // failedChecks++ (name the failed metric and its message in a Warning Event)
//	}
//
// A check passes only when Prometheus returned one finite number within the threshold range: no data, NaN,
// infinities, several series, errors and timeouts all fail it, and Check has no error return that a caller
// could forget to treat as a failure. A metric with minRequests first counts the requests over its interval;
// below the minimum it is Held.
//
// Queries are templates in the grammar of api/querytemplate (the admission webhook checks them with the
// same parser), with the variables {{ namespace }}, {{ target }}, {{ service }}, {{ interval }} and the
// metric's own; an unknown variable fails the check and names the variable.
package analysis
