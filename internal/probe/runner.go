package probe

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

// DefaultMaxConcurrentPerGroup bounds concurrent checks of one group when
// RunnerOptions leaves it zero.
const DefaultMaxConcurrentPerGroup = 4

// ErrUnknownMember is returned by Runner.MarkDown for a group or member that
// was never ensured (or was removed).
var ErrUnknownMember = errors.New("unknown group member")

// RunnerOptions configure a Runner. Zero values mean the documented defaults.
type RunnerOptions struct {
	// Clock times the probe periods; default the real clock.
	Clock clock.Clock
	// Checkers maps target kinds to checkers; default NewRegistry().
	// The Runner keeps a copy.
	Checkers Registry
	// Logger receives health transitions (Info) and probe failures (V(1)).
	Logger logr.Logger
	// Metrics to record into; default a fresh, unregistered NewMetrics().
	Metrics *Metrics
	// MaxConcurrentPerGroup bounds concurrent checks per group; default
	// DefaultMaxConcurrentPerGroup.
	MaxConcurrentPerGroup int
	// OnChange is called with the group key when a member of that group
	// becomes known or its health flips, whether by probe or MarkDown. It is
	// called from probe goroutines (or from MarkDown's caller) and must not
	// block or call Ensure/Remove; a non-blocking or buffered channel send
	// that triggers a reconcile is the intended use.
	OnChange func(group string)
}

// Runner probes the members of many groups concurrently, outside any
// reconcile loop. Groups are added and updated with Ensure and dropped with
// Remove; probing runs while Start runs. All methods are safe for concurrent
// use.
type Runner struct {
	clock                 clock.Clock
	checkers              Registry
	log                   logr.Logger
	metrics               *Metrics
	maxConcurrentPerGroup int
	onChange              func(group string)

	mu      sync.Mutex
	groups  map[string]*group
	runCtx  context.Context // set by Start; loops are started only while set and not stopped
	started bool
	stopped bool
	loops   sync.WaitGroup
}

// group is the Runner's record of one ensured group.
type group struct {
	key   string
	spec  GroupSpec     // normalized
	slots chan struct{} // one token per running check, bounds concurrency
	// members by name
	members map[string]*member
}

// member is the Runner's record of one member; guarded by Runner.mu.
type member struct {
	name   string
	target Target
	state  State
	loop   *probeLoop // nil while not probing
}

// NewRunner returns a Runner; probing begins when Start is called.
func NewRunner(opts RunnerOptions) *Runner {
	r := &Runner{
		clock:                 opts.Clock,
		checkers:              opts.Checkers.clone(),
		log:                   opts.Logger,
		metrics:               opts.Metrics,
		maxConcurrentPerGroup: opts.MaxConcurrentPerGroup,
		onChange:              opts.OnChange,
		groups:                map[string]*group{},
	}
	if r.clock == nil {
		r.clock = clock.RealClock{}
	}
	if r.checkers == nil {
		r.checkers = NewRegistry()
	}
	if r.log.GetSink() == nil {
		r.log = logr.Discard()
	}
	if r.metrics == nil {
		r.metrics = NewMetrics()
	}
	if r.maxConcurrentPerGroup <= 0 {
		r.maxConcurrentPerGroup = DefaultMaxConcurrentPerGroup
	}
	if r.onChange == nil {
		r.onChange = func(string) {}
	}
	return r
}

// Ensure makes the Runner probe group key according to spec. It is
// idempotent: members whose target and the group period are unchanged keep
// their probe loop and state; new members start unknown; removed members stop
// being probed; a member whose target kind or address changed starts over as
// unknown; other target changes (path, scheme, timeout) and period changes
// restart the member's loop but keep its state. New thresholds apply from the
// next probe. An invalid spec is rejected as a whole and the previous spec
// stays in force. Ensure returns after the loops it stopped have exited.
func (r *Runner) Ensure(key string, spec GroupSpec) error {
	spec, err := spec.normalized(r.checkers)
	if err != nil {
		return fmt.Errorf("ensure probes for group %s: %w", key, err)
	}

	r.mu.Lock()
	g, existed := r.groups[key]
	if !existed {
		g = &group{
			key:     key,
			slots:   make(chan struct{}, r.maxConcurrentPerGroup),
			members: map[string]*member{},
		}
		r.groups[key] = g
	}
	periodChanged := existed && g.spec.Period != spec.Period
	g.spec = spec

	var stopped []*probeLoop
	wanted := make(map[string]bool, len(spec.Members))
	for _, ms := range spec.Members {
		wanted[ms.Name] = true
	}
	for name, m := range g.members {
		if !wanted[name] {
			stopped = appendStopped(stopped, m)
			delete(g.members, name)
			r.metrics.forgetMember(key, name)
		}
	}
	for _, ms := range spec.Members {
		m, ok := g.members[ms.Name]
		switch {
		case !ok:
			m = &member{name: ms.Name, target: ms.Target}
			g.members[ms.Name] = m
			r.startLoopLocked(g, m)
		case !m.target.sameEndpoint(ms.Target):
			stopped = appendStopped(stopped, m)
			m.target, m.state = ms.Target, State{}
			r.metrics.forgetMember(key, ms.Name)
			r.startLoopLocked(g, m)
		case m.target != ms.Target || periodChanged:
			stopped = appendStopped(stopped, m)
			m.target = ms.Target
			r.startLoopLocked(g, m)
		}
	}
	r.mu.Unlock()

	waitExited(stopped)
	return nil
}

// Remove stops probing group key and forgets its state and metrics. It
// returns after the group's probe loops have exited, so the group's checkers
// are not called afterwards. Removing an unknown group is a no-op.
func (r *Runner) Remove(key string) {
	r.mu.Lock()
	g, ok := r.groups[key]
	var stopped []*probeLoop
	if ok {
		for _, m := range g.members {
			stopped = appendStopped(stopped, m)
		}
		delete(r.groups, key)
		r.metrics.forgetGroup(key)
	}
	r.mu.Unlock()

	waitExited(stopped)
}

// Snapshot returns a copy of the state of every member of group key, by
// member name, or nil if the group is not ensured.
func (r *Runner) Snapshot(key string) map[string]State {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.groups[key]
	if !ok {
		return nil
	}
	out := make(map[string]State, len(g.members))
	for name, m := range g.members {
		out[name] = m.state
	}
	return out
}

// MarkDown declares a member unhealthy at once (see State.MarkDown), e.g.
// when all its pods are gone or NotReady. OnChange is called, synchronously,
// if this changed the member's health. It returns ErrUnknownMember if the
// group or member is not ensured.
func (r *Runner) MarkDown(key, name, reason string) error {
	r.mu.Lock()
	g, ok := r.groups[key]
	var m *member
	if ok {
		m, ok = g.members[name]
	}
	if !ok {
		r.mu.Unlock()
		return fmt.Errorf("mark down %s member %s: %w", key, name, ErrUnknownMember)
	}
	next, changed := m.state.MarkDown(reason, r.clock.Now())
	m.state = next
	r.metrics.setMemberHealth(key, name, next)
	r.mu.Unlock()

	if changed {
		r.announce(key, name, next, "markDown")
	}
	return nil
}

// Start probes every ensured group until ctx is done, then stops all probe
// loops and returns nil once they have exited. It implements
// controller-runtime's manager.Runnable; a Runner can be started only once.
// Groups ensured before Start begin probing when it is called; groups ensured
// after it returned are recorded but not probed.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return errors.New("probe runner: already started")
	}
	r.started = true
	r.runCtx = ctx
	for _, g := range r.groups {
		for _, m := range g.members {
			r.startLoopLocked(g, m)
		}
	}
	r.mu.Unlock()
	r.log.Info("probe runner started")

	<-ctx.Done()

	r.mu.Lock()
	r.stopped = true
	for _, g := range r.groups {
		for _, m := range g.members {
			stopLoopLocked(m)
		}
	}
	r.mu.Unlock()
	r.loops.Wait()
	r.log.Info("probe runner stopped")
	return nil
}

// record applies one probe result of loop to its member, unless the loop was
// stopped meanwhile (its result is then stale).
func (r *Runner) record(loop *probeLoop, g *group, m *member, probeErr error) {
	r.mu.Lock()
	if loop.ctx.Err() != nil {
		r.mu.Unlock()
		return
	}
	next, changed := m.state.Observe(probeErr, r.clock.Now(), g.spec.thresholds())
	m.state = next
	r.metrics.setMemberHealth(g.key, m.name, next)
	r.mu.Unlock()

	if probeErr != nil {
		r.log.V(1).Info("probe failed", "group", g.key, "member", m.name,
			"consecutiveFailures", next.ConsecutiveFailures, "error", probeErr.Error())
	}
	if changed {
		r.announce(g.key, m.name, next, "probe")
	}
}

// announce logs a health transition and notifies OnChange.
func (r *Runner) announce(key, name string, s State, cause string) {
	r.log.Info("member health changed", "group", key, "member", name,
		"healthy", s.Healthy, "cause", cause, "lastError", s.LastError)
	r.onChange(key)
}

// startLoopLocked starts probing m if the Runner is running. r.mu must be held.
func (r *Runner) startLoopLocked(g *group, m *member) {
	if r.runCtx == nil || r.stopped {
		return
	}
	loop := newProbeLoop(r.runCtx)
	m.loop = loop
	target, period := m.target, g.spec.Period
	r.loops.Add(1)
	go func() {
		defer r.loops.Done()
		r.runLoop(loop, g, m, target, period)
	}()
}

// stopLoopLocked cancels m's probe loop, if any, and returns it (or nil).
// r.mu must be held.
func stopLoopLocked(m *member) *probeLoop {
	loop := m.loop
	if loop != nil {
		loop.cancel()
		m.loop = nil
	}
	return loop
}

// appendStopped stops m's probe loop, if any, and appends it to stopped so
// the caller can wait for it with waitExited after releasing r.mu. r.mu must
// be held.
func appendStopped(stopped []*probeLoop, m *member) []*probeLoop {
	if loop := stopLoopLocked(m); loop != nil {
		stopped = append(stopped, loop)
	}
	return stopped
}
