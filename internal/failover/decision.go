package failover

import (
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// Action is the next thing to do.
type Action string

const (
	// ActionNone: nothing to do now (see RequeueAfter).
	ActionNone Action = "None"
	// ActionElect: no member holds the role; give it to To.
	ActionElect Action = "Elect"
	// ActionFailover: the active member From is down and its Lease expired; move the role to To.
	ActionFailover Action = "Failover"
	// ActionSwitchover: planned move requested by annotation, From to To.
	ActionSwitchover Action = "Switchover"
	// ActionFailback: planned move back to the preferred member To.
	ActionFailback Action = "Failback"
	// ActionResume: continue the failover recorded in status.inProgress.
	ActionResume Action = "Resume"
	// ActionSwitchoverDone: the requested member already holds the role; clear the request.
	ActionSwitchoverDone Action = "SwitchoverDone"
	// ActionRefuseSwitchover: the request cannot be honoured (Message says why).
	ActionRefuseSwitchover Action = "RefuseSwitchover"
	// ActionFailoverRequired: the active member is down but policy forbids acting (Manual, paused).
	ActionFailoverRequired Action = "FailoverRequired"
	// ActionNoCandidate: the active member is down (or none holds the role) and no member can take it.
	ActionNoCandidate Action = "NoCandidate"
	// ActionFailoverRefused: the best candidate is further behind than maxDataLoss; a person decides
	// (annotation understudy.dev/force-failover=<member>).
	ActionFailoverRefused Action = "FailoverRefused"
)

// Reason is why the active role moves; recorded in status.lastFailover, status.inProgress and
// metrics.
type Reason string

// Reasons recorded in status.lastFailover and metrics (the values and their docs: api/v1alpha1/vocabulary.go).
const (
	ReasonInitialElection Reason = v1alpha1.FailoverReasonInitialElection
	ReasonFailover        Reason = v1alpha1.FailoverReasonFailover
	ReasonSwitchover      Reason = v1alpha1.FailoverReasonSwitchover
	ReasonFailback        Reason = v1alpha1.FailoverReasonFailback
	ReasonForced          Reason = v1alpha1.FailoverReasonForced
)

// Unplanned reports whether the move happens because the active member failed (an automatic or a
// forced failover): the Lease must expire first and the old member stays fenced until it rejoins.
// Switchovers, failbacks and the initial election are planned.
func (r Reason) Unplanned() bool { return r == ReasonFailover || r == ReasonForced }

// Decision is the outcome of Decide.
type Decision struct {
	Action   Action
	From, To string
	Reason   Reason
	Message  string
	// Renew asks for the holder's Lease to be renewed now.
	Renew bool
	// RequeueAfter is when the world should be looked at again even if nothing changes (a Lease
	// expiring, a renewal falling due, a failback delay running out); 0 means no timer is needed.
	RequeueAfter time.Duration
}

func soonest(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	case a < b:
		return a
	default:
		return b
	}
}

// until is the time from now to t, at least one millisecond.
func until(now, t time.Time) time.Duration {
	d := t.Sub(now)
	if d < time.Millisecond {
		return time.Millisecond
	}
	return d
}
