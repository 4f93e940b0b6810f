package config

import (
	"sync"
	"sync/atomic"

	"github.com/sluicemesh/sluice/proxy/breaker"
)

// Store holds the active Snapshot. The request path calls Load, one atomic
// load, and keeps the snapshot it got for the whole request; Apply swaps in a
// new one atomically, so a request sees either the old configuration or the
// new one, never a mix.
type Store struct {
	active atomic.Pointer[Snapshot]
	loaded atomic.Bool
	// applyMu serialises Apply so each new snapshot inherits endpoint state
	// from the one it replaces.
	applyMu sync.Mutex
	// Clock measures circuit-breaker ejections; nil is the system clock.
	// Set it before the first Apply (tests set a fake one).
	Clock breaker.Clock
}

// NewStore returns a Store holding EmptySnapshot.
func NewStore() *Store {
	s := &Store{}
	s.active.Store(EmptySnapshot())
	return s
}

// Load returns the active snapshot.
func (s *Store) Load() *Snapshot { return s.active.Load() }

// Loaded reports whether a configuration was applied (the proxy is ready).
func (s *Store) Loaded() bool { return s.loaded.Load() }

// Apply validates and compiles cfg and makes it the active snapshot; cfg
// belongs to the snapshot from then on and must not be modified. On error
// the active snapshot is unchanged.
func (s *Store) Apply(cfg *Config) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	snap, err := newSnapshot(cfg, s.active.Load(), s.Clock)
	if err != nil {
		return err
	}
	s.active.Store(snap)
	s.loaded.Store(true)
	return nil
}
