package controllers

import (
	"fmt"
	"sync"

	"github.com/understudy-dev/understudy/internal/probe"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// sqlTargets tells the SQL Server health checker which login to use for each probed address; the
// reconciler records it when it configures a SQL Server group's probes.
type sqlTargets struct {
	mu      sync.Mutex
	configs map[string]sqlserver.Config
}

func (t *sqlTargets) set(address string, cfg sqlserver.Config) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.configs == nil {
		t.configs = map[string]sqlserver.Config{}
	}
	t.configs[address] = cfg
}

// configFor is the logshipping.SQLChecker's lookup.
func (t *sqlTargets) configFor(target probe.Target) (sqlserver.Config, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cfg, ok := t.configs[target.Address]
	if !ok {
		return sqlserver.Config{}, fmt.Errorf("no SQL Server login known for %s", target.Address)
	}
	return cfg, nil
}
