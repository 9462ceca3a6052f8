// Package sqlgroup keeps what the SQL Server path of the operator holds per FailoverGroup across
// reconciles, in one registry with one entry per group: the lock that serialises the group's SQL
// work, its connection pools, its log-shipping Shipper, its health-probe targets and when each
// RestoreSchedule last restored each member. An entry is created on first use and removed, with
// every pool closed, by Forget when the group is deleted: nothing outlives its group.
//
// Pools belong to one group. Two groups naming the same SQL Server instance get a pool each, so a
// pool is closed exactly when its group (or the member it serves) goes and is never shared.
package sqlgroup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// Key names a group: its namespace and name.
type Key = types.NamespacedName

// Pool is a connection pool to one instance: a *sqlserver.Client (tests use fakes).
type Pool interface {
	Close() error
}

// ProbeTarget is what the SQL Server health check needs to know about one probed address.
type ProbeTarget struct {
	// Config is the group's login, with Host and Port of the probed address.
	Config sqlserver.Config
	// Databases are the group's databases.
	Databases []string
	// Role is the state the member's databases must be in to count as healthy.
	Role sqlserver.Role
}

// Registry is the per-group state of every SQL Server group. Safe for concurrent use.
type Registry[P Pool] struct {
	open func(sqlserver.Config) (P, error)

	// mu guards the maps below and every group's fields except its work lock. Opening a pool
	// (sqlserver.Open does not connect) happens under it, so Forget never races an open.
	mu     sync.Mutex
	groups map[Key]*group[P]
	// probed maps a probed address to the group members probed there, in the order they were
	// registered: the health check of an address uses the last (a probe target carries no group).
	probed map[string][]memberRef
}

type memberRef struct {
	group  Key
	member string
}

// group is one group's state.
type group[P Pool] struct {
	// work serialises the group's SQL work (Lock); never taken while holding Registry.mu.
	work sync.Mutex
	// preempt cancels the work of the holder that took work with LockPreemptible (nil otherwise);
	// preempting counts the callers of LockPreempting waiting for work. Both under Registry.mu.
	preempt    context.CancelFunc
	preempting int

	pools       map[poolKey]pooled[P]
	probes      map[string]probe // by member
	shipper     *cachedShipper
	lastRestore map[string]time.Time // by run: "<RestoreSchedule>/<member>"
}

// poolKey names a pool of a group: the reconcilers' pool to a member, or the health check's.
type poolKey struct {
	member string
	probe  bool
}

type pooled[P Pool] struct {
	fingerprint string
	pool        P
}

type probe struct {
	address string
	target  ProbeTarget
}

type cachedShipper struct {
	id      string // what the Shipper was built from
	shipper *logshipping.Shipper
}

// New returns an empty registry whose pools are opened with open (sqlserver.Open).
func New[P Pool](open func(sqlserver.Config) (P, error)) *Registry[P] {
	return &Registry[P]{open: open, groups: map[Key]*group[P]{}, probed: map[string][]memberRef{}}
}

// getLocked returns key's state, creating it. r.mu is held.
func (r *Registry[P]) getLocked(key Key) *group[P] {
	g, ok := r.groups[key]
	if !ok {
		g = &group[P]{pools: map[poolKey]pooled[P]{}, probes: map[string]probe{}, lastRestore: map[string]time.Time{}}
		r.groups[key] = g
	}
	return g
}

// Lock serialises the SQL work of one group between the log-shipping loop and a failover's
// promotion step, so a standby is never being restored while it is promoted. Call the returned
// function to unlock.
func (r *Registry[P]) Lock(key Key) (unlock func()) {
	r.mu.Lock()
	g := r.getLocked(key)
	r.mu.Unlock()
	g.work.Lock()
	return g.work.Unlock
}

// Pool returns the group's pool to member, opening a new one (and closing the old) when cfg
// changed: another endpoint, a rotated password.
func (r *Registry[P]) Pool(key Key, member string, cfg sqlserver.Config) (P, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.poolLocked(r.getLocked(key), poolKey{member: member}, cfg)
}

func (r *Registry[P]) poolLocked(g *group[P], pk poolKey, cfg sqlserver.Config) (P, error) {
	fp := fingerprint(cfg)
	if cur, ok := g.pools[pk]; ok {
		if cur.fingerprint == fp {
			return cur.pool, nil
		}
		_ = cur.pool.Close()
		delete(g.pools, pk)
	}
	p, err := r.open(cfg)
	if err != nil {
		var zero P
		return zero, fmt.Errorf("open SQL Server connection to %s: %w", cfg.Address(), err)
	}
	g.pools[pk] = pooled[P]{fingerprint: fp, pool: p}
	return p, nil
}

// fingerprint identifies a configuration without keeping its password in memory twice.
func fingerprint(cfg sqlserver.Config) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s\x00%s\x00%s\x00%x\x00%v", cfg.Host, cfg.Port, cfg.Username, cfg.Password, cfg.Encrypt, cfg.CACertPEM, cfg.TrustServerCertificate)
	return hex.EncodeToString(h.Sum(nil))
}

// Shipper returns the group's Shipper if it was built from id (what its target and schedule were
// made of), else builds one with build and keeps it. When build fails the previous one is kept.
func (r *Registry[P]) Shipper(key Key, id string, build func() (*logshipping.Shipper, error)) (*logshipping.Shipper, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.getLocked(key)
	if g.shipper != nil && g.shipper.id == id {
		return g.shipper.shipper, nil
	}
	sh, err := build()
	if err != nil {
		return nil, err
	}
	g.shipper = &cachedShipper{id: id, shipper: sh}
	return sh, nil
}

// LastRestore is when run (a RestoreSchedule on a member) last restored; the first time it is
// asked for, it records and returns unseen.
func (r *Registry[P]) LastRestore(key Key, run string, unseen time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.getLocked(key)
	last, ok := g.lastRestore[run]
	if !ok {
		last = unseen
		g.lastRestore[run] = last
	}
	return last
}

// Restored records that run restored at t.
func (r *Registry[P]) Restored(key Key, run string, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.getLocked(key).lastRestore[run] = t
}

// SetProbe records that member of the group is health-checked at address with target. A member
// probed at a new address no longer answers for the old one.
func (r *Registry[P]) SetProbe(key Key, member, address string, target ProbeTarget) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.getLocked(key)
	ref := memberRef{group: key, member: member}
	if old, ok := g.probes[member]; ok {
		r.unindexLocked(old.address, ref)
	}
	g.probes[member] = probe{address: address, target: target}
	r.probed[address] = append(r.probed[address], ref)
}

// Probe returns the target registered last for address and the health check's pool to it (opened
// on first use, replaced when the target's login or endpoint changed).
func (r *Registry[P]) Probe(address string) (ProbeTarget, P, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var zero P
	refs := r.probed[address]
	if len(refs) == 0 {
		return ProbeTarget{}, zero, fmt.Errorf("no SQL Server login known for %s", address)
	}
	ref := refs[len(refs)-1]
	g := r.groups[ref.group]
	pr := g.probes[ref.member]
	p, err := r.poolLocked(g, poolKey{member: ref.member, probe: true}, pr.target.Config)
	if err != nil {
		return ProbeTarget{}, zero, err
	}
	return pr.target, p, nil
}

// RetainMembers drops the pools and probe targets of the group's members that are not in members
// (removed from its spec). A group without state is left without.
func (r *Registry[P]) RetainMembers(key Key, members []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.groups[key]
	if !ok {
		return
	}
	for pk, p := range g.pools {
		if !slices.Contains(members, pk.member) {
			_ = p.pool.Close()
			delete(g.pools, pk)
		}
	}
	for member, pr := range g.probes {
		if !slices.Contains(members, member) {
			r.unindexLocked(pr.address, memberRef{group: key, member: member})
			delete(g.probes, member)
		}
	}
}

// Forget removes everything the registry holds for a deleted group: it closes the group's pools and
// drops its Shipper, probe targets, restore times and lock. Forgetting a group without state does
// nothing; other groups are not touched.
func (r *Registry[P]) Forget(key Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.groups[key]
	if !ok {
		return
	}
	delete(r.groups, key)
	for member, pr := range g.probes {
		r.unindexLocked(pr.address, memberRef{group: key, member: member})
	}
	for _, p := range g.pools {
		_ = p.pool.Close()
	}
}

// unindexLocked removes ref from the members probed at address. r.mu is held.
func (r *Registry[P]) unindexLocked(address string, ref memberRef) {
	refs := slices.DeleteFunc(r.probed[address], func(x memberRef) bool { return x == ref })
	if len(refs) == 0 {
		delete(r.probed, address)
		return
	}
	r.probed[address] = refs
}

// Len is the number of groups the registry holds state for.
func (r *Registry[P]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.groups)
}

// Tracked reports whether the registry holds state for the group.
func (r *Registry[P]) Tracked(key Key) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.groups[key]
	return ok
}
