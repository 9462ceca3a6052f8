package controllers

import "sync"

// groupLocks serialises the SQL work of one group between the log-shipping loop and a failover's
// promotion step, so a standby is never being restored while it is promoted.
type groupLocks struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (g *groupLocks) lock(key string) func() {
	g.mu.Lock()
	if g.locks == nil {
		g.locks = map[string]*sync.Mutex{}
	}
	l, ok := g.locks[key]
	if !ok {
		l = &sync.Mutex{}
		g.locks[key] = l
	}
	g.mu.Unlock()
	l.Lock()
	return l.Unlock
}
