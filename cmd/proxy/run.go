package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicemesh/sluice/proxy/admin"
	"github.com/sluicemesh/sluice/proxy/config"
	"github.com/sluicemesh/sluice/proxy/listener"
	"github.com/sluicemesh/sluice/proxy/metrics"
	meshtls "github.com/sluicemesh/sluice/proxy/tls"
)

// run serves until ctx ends or /shutdown is called, then drains.
func run(ctx context.Context, o *options, log *slog.Logger) error {
	ctx, shutdown := context.WithCancel(ctx)
	defer shutdown()

	id := metrics.IdentityFromEnv()
	rec := metrics.New(id)
	store := config.NewStore()
	source := &config.FileSource{Path: o.configPath, Interval: o.pollInterval, Log: log}
	sourceDone := make(chan struct{})
	go func() {
		defer close(sourceDone)
		_ = source.Run(ctx, store.Apply)
	}()

	var identity *meshtls.Source
	if o.tls.Cert != "" {
		var err error
		if identity, err = meshtls.NewSource(o.tls, func(m *meshtls.Material) { rec.CertificateExpiry(m.NotAfter()) }, log); err != nil {
			return err
		}
		log.Info("Loaded TLS certificate", "identity", identity.Current().Identity, "notAfter", identity.Current().NotAfter())
		go identity.Watch(ctx, o.tlsPoll)
	}

	outbound := listener.NewOutbound(store, rec, log, listener.WithIdentity(identity))
	inbound := listener.NewInbound(store, rec, log)
	var draining atomic.Bool
	traffic := []*namedServer{
		{name: "inbound", addr: o.inboundAddr, srv: listener.NewTrafficServer(inbound, log), wrap: func(ln net.Listener) net.Listener {
			// mTLS termination and the STRICT/PERMISSIVE mode happen here.
			return listener.NewInboundListener(ln, store, identity, rec, log)
		}},
		{name: "outbound", addr: o.outboundAddr, srv: listener.NewTrafficServer(outbound, log), wrap: func(ln net.Listener) net.Listener {
			// Transparent mode (SO_ORIGINAL_DST) and opaque TCP happen here.
			return listener.NewOutboundListener(ln, store, identity, rec, log)
		}},
	}
	adminSrv := &namedServer{name: "admin", addr: o.adminAddr, srv: &http.Server{
		Handler: admin.NewHandler(admin.Options{
			Store:    store,
			Gatherer: rec.Registry(),
			Ready:    func() bool { return store.Loaded() && !draining.Load() },
			Shutdown: shutdown,
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}}

	// Bind everything before serving anything, so a port conflict fails the
	// start instead of leaving a half-working proxy.
	all := append([]*namedServer{adminSrv}, traffic...)
	for _, s := range all {
		if err := s.listen(); err != nil {
			for _, b := range all {
				b.closeListener()
			}
			return err
		}
	}
	serveErr := make(chan error, len(all))
	for _, s := range all {
		log.Info("Listening", "listener", s.name, "address", s.ln.Addr().String())
		go func() { serveErr <- s.serve() }()
	}
	log.Info("Proxy started", "namespace", id.Namespace, "pod", id.Pod, "workload", id.Workload, "config", o.configPath)

	var failure error
	select {
	case <-ctx.Done():
	case failure = <-serveErr:
		log.Error("A listener stopped", "error", failure)
	}

	draining.Store(true)
	log.Info("Draining", "grace", o.grace.String())
	drainCtx, cancel := context.WithTimeout(context.Background(), o.grace)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range traffic {
		wg.Go(func() { s.drain(drainCtx, log) })
	}
	wg.Wait()
	outbound.CloseIdleConnections()
	inbound.CloseIdleConnections()
	adminSrv.drain(drainCtx, log)
	<-sourceDone
	log.Info("Proxy stopped")
	return failure
}

// namedServer is one listener of the proxy.
type namedServer struct {
	name string
	addr string
	srv  server
	ln   net.Listener
	// wrap, when set, wraps the bound listener before serving.
	wrap func(net.Listener) net.Listener
}

// server is what serves a listener: an http.Server (admin) or a
// listener.TrafficServer.
type server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

func (s *namedServer) listen() error {
	ln, err := listenAll(s.addr)
	if err != nil {
		return fmt.Errorf("listen %s on %s: %w", s.name, s.addr, err)
	}
	if s.wrap != nil {
		ln = s.wrap(ln)
	}
	s.ln = ln
	return nil
}

func (s *namedServer) closeListener() {
	if s.ln != nil {
		_ = s.ln.Close()
	}
}

func (s *namedServer) serve() error {
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s listener: %w", s.name, err)
	}
	return nil
}

// drain stops accepting, waits for in-flight requests and opaque
// connections until ctx ends, then closes what is left.
func (s *namedServer) drain(ctx context.Context, log *slog.Logger) {
	if err := s.srv.Shutdown(ctx); err != nil {
		log.Warn("Grace period over, closing connections with requests in flight", "listener", s.name, "error", err)
		_ = s.srv.Close()
	}
	// Opaque TCP connections never reach the HTTP server: they get the
	// rest of the same grace period.
	if t, ok := s.ln.(interface{ DrainTunnels(context.Context) int }); ok {
		if cut := t.DrainTunnels(ctx); cut > 0 {
			log.Warn("Grace period over, closing opaque connections", "listener", s.name, "connections", cut)
		}
	}
}
