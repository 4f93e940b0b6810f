package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// errNoData marks a query that returned no series. A metric query fails on it; a request count query reads
// it as zero requests (counters of a workload that got no request do not exist yet).
var errNoData = errors.New("no data: the query returned no series")

// number runs an instant query at `at` and returns its one finite value. Everything else is an error with a
// message for users: a Prometheus that cannot be reached or does not answer in time, a query it rejects, no
// series, more than one, NaN or an infinity. This is the only path from Prometheus to a value, so a check
// can pass only on a real number. Each query is counted under namespace, the one its metric measures.
func (k *Checker) number(ctx context.Context, namespace, query string, at time.Time) (float64, error) {
	v, err := k.instant(ctx, query, at)
	recordQuery(namespace, err)
	return v, err
}

func (k *Checker) instant(ctx context.Context, query string, at time.Time) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, k.QueryTimeout)
	defer cancel()
	// WithTimeout also asks Prometheus to give up on its side, rather than evaluate for nobody.
	value, _, err := k.api.Query(ctx, query, at, promv1.WithTimeout(k.QueryTimeout))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return math.NaN(), fmt.Errorf("no answer from Prometheus %s within %s", k.server.Address, k.QueryTimeout)
		}
		return math.NaN(), fmt.Errorf("query Prometheus %s: %w", k.server.Address, err)
	}
	var v float64
	switch value := value.(type) {
	case model.Vector:
		switch len(value) {
		case 0:
			return math.NaN(), errNoData
		case 1:
			v = float64(value[0].Value)
		default:
			return math.NaN(), fmt.Errorf("the query returned %d series; it must return one number (aggregate it, e.g. with sum)", len(value))
		}
	case *model.Scalar:
		v = float64(value.Value)
	default:
		return math.NaN(), fmt.Errorf("the query returned a %s; it must return one number", value.Type())
	}
	switch {
	case math.IsNaN(v):
		return math.NaN(), errors.New("the query returned NaN, not a number (e.g. 0/0: no requests over the interval)")
	case math.IsInf(v, 0):
		return math.NaN(), fmt.Errorf("the query returned %v, not a finite number", v)
	}
	return v, nil
}
