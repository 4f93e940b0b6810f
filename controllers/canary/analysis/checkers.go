package analysis

import "sync"

// Checkers keeps one Checker per Server, so the checks of every Canary and interval reuse the connections to
// a Prometheus instead of opening new ones. The zero value is ready to use and safe for concurrent use.
//
// Entries are never dropped: a cluster has a handful of Prometheus servers, and a rotated credential adds one
// small entry whose idle connections the transport closes after 90s.
type Checkers struct {
	mu       sync.Mutex
	byServer map[Server]*Checker
}

// For returns the Checker of s, making it on first use.
func (c *Checkers) For(s Server) (*Checker, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.byServer[s]; ok {
		return k, nil
	}
	k, err := NewChecker(s)
	if err != nil {
		return nil, err
	}
	if c.byServer == nil {
		c.byServer = map[Server]*Checker{}
	}
	c.byServer[s] = k
	return k, nil
}
