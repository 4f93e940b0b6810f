package listener

import (
	"context"
	"net/http"
	"net/url"

	"github.com/sluicemesh/sluice/proxy/config"
	"github.com/sluicemesh/sluice/proxy/retry"
)

// exchange is what the handler decided about one request, handed to the
// transport and error handler through the request context, and what they
// report back.
type exchange struct {
	// dest is the backend the request goes to.
	dest *config.Destination
	// retries is nil when the request is tried once.
	retries *retry.Policy
	// status is the status code answered to the client, set by ModifyResponse
	// or the error handler.
	status int
	// tls is set when a try went over mTLS to a meshed endpoint.
	tls bool
	// info relays 1xx answers to the client (relay only).
	info informational
	// url is the outgoing request's URL, which each try points at its
	// endpoint (relay only).
	url url.URL
}

type exchangeKey struct{}

func withExchange(r *http.Request, ex *exchange) *http.Request {
	return r.WithContext(withExchangeContext(r.Context(), ex))
}

func withExchangeContext(ctx context.Context, ex *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, ex)
}

func exchangeOf(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}
