package probe

import "time"

// Default thresholds applied when a GroupSpec leaves them zero.
const (
	DefaultFailureThreshold = 3
	DefaultSuccessThreshold = 1
)

// Thresholds are the number of consecutive results needed to flip a known
// member's health.
type Thresholds struct {
	// Failure is how many consecutive failures make a healthy member unhealthy.
	Failure int
	// Success is how many consecutive successes make an unhealthy member healthy.
	Success int
}

// withDefaults replaces non-positive thresholds by the defaults.
func (th Thresholds) withDefaults() Thresholds {
	if th.Failure <= 0 {
		th.Failure = DefaultFailureThreshold
	}
	if th.Success <= 0 {
		th.Success = DefaultSuccessThreshold
	}
	return th
}

// State is the health verdict for one member.
type State struct {
	// Healthy is the current verdict; meaningful only when Known.
	Healthy bool
	// Known is false until the first probe result or MarkDown.
	Known bool
	// ConsecutiveFailures counts failed probes since the last success.
	ConsecutiveFailures int
	// ConsecutiveSuccesses counts successful probes since the last failure
	// or MarkDown.
	ConsecutiveSuccesses int
	// LastProbeTime is when the last probe finished.
	LastProbeTime time.Time
	// LastError is the last failed probe's error (or MarkDown reason);
	// cleared by a successful probe.
	LastError string
	// LastTransitionTime is when Known or Healthy last changed.
	LastTransitionTime time.Time
}

// Observe folds one probe result (probeErr == nil means success) finished at
// the given time into s and reports whether Known or Healthy changed.
//
// The first result of an unknown member decides at once. Afterwards a healthy
// member turns unhealthy after th.Failure consecutive failures and an
// unhealthy member turns healthy after th.Success consecutive successes.
// Non-positive thresholds mean the defaults.
func (s State) Observe(probeErr error, at time.Time, th Thresholds) (State, bool) {
	th = th.withDefaults()
	next := s
	next.LastProbeTime = at
	healthy := s.Healthy
	if probeErr == nil {
		next.ConsecutiveSuccesses++
		next.ConsecutiveFailures = 0
		next.LastError = ""
		if !s.Known || (!s.Healthy && next.ConsecutiveSuccesses >= th.Success) {
			healthy = true
		}
	} else {
		next.ConsecutiveFailures++
		next.ConsecutiveSuccesses = 0
		next.LastError = probeErr.Error()
		if !s.Known || (s.Healthy && next.ConsecutiveFailures >= th.Failure) {
			healthy = false
		}
	}
	return settle(s, next, healthy, at)
}

// MarkDown declares the member unhealthy at once, e.g. because none of its
// pods is running or ready, and reports whether Known or Healthy changed. The
// member then needs the usual consecutive successes to become healthy again.
func (s State) MarkDown(reason string, at time.Time) (State, bool) {
	next := s
	next.ConsecutiveSuccesses = 0
	next.LastError = reason
	return settle(s, next, false, at)
}

// settle makes next known with the given health, stamping the transition time
// when that differs from prev, and reports whether it did.
func settle(prev, next State, healthy bool, at time.Time) (State, bool) {
	next.Known = true
	next.Healthy = healthy
	changed := !prev.Known || prev.Healthy != healthy
	if changed {
		next.LastTransitionTime = at
	}
	return next, changed
}
