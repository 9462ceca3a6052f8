package failover

import (
	"time"

	"fmt"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// Decide returns the one next thing to do for a group.
func Decide(in Input) Decision {
	if in.InProgress != nil {
		p := in.InProgress
		return Decision{Action: ActionResume, From: p.From, To: p.To, Reason: p.Reason}
	}
	active, hasActive := "", false
	if in.Lease.Exists && in.Lease.Holder != "" {
		if _, ok := in.member(in.Lease.Holder); ok {
			active, hasActive = in.Lease.Holder, true
		}
	}
	if in.SwitchoverTo != "" {
		return decideSwitchover(in, active)
	}
	if !hasActive {
		return decideElection(in)
	}
	return decideWithActive(in, active)
}

func decideSwitchover(in Input, active string) Decision {
	refuse := func(format string, args ...any) Decision {
		return Decision{Action: ActionRefuseSwitchover, To: in.SwitchoverTo, Reason: ReasonSwitchover,
			Message: fmt.Sprintf(format, args...)}
	}
	target, ok := in.member(in.SwitchoverTo)
	switch {
	case !ok:
		return refuse("switchover refused: no member named %q", in.SwitchoverTo)
	case in.Policy.Paused:
		return refuse("switchover to %q refused: the group is paused", target.Name)
	case target.Name == active:
		return Decision{Action: ActionSwitchoverDone, To: target.Name, Reason: ReasonSwitchover,
			Message: fmt.Sprintf("%q already holds the active role", target.Name)}
	case target.Priority == 0:
		return refuse("switchover to %q refused: its priority is 0 (disabled)", target.Name)
	case !target.Known || !target.up():
		return refuse("switchover to %q refused: it is not healthy", target.Name)
	case active == "":
		return refuse("switchover to %q refused: no member holds the active role yet", target.Name)
	}
	return Decision{Action: ActionSwitchover, From: active, To: target.Name, Reason: ReasonSwitchover}
}

func decideElection(in Input) Decision {
	// A Lease held by a name that is no longer a member still blocks until it expires.
	if in.Lease.Exists && in.Lease.Holder != "" && !in.Lease.Expired(in.Now) {
		return Decision{Action: ActionNone, RequeueAfter: until(in.Now, in.Lease.ExpiresAt()),
			Message: fmt.Sprintf("the Lease is held by %q, not a member; waiting for it to expire", in.Lease.Holder)}
	}
	if in.Policy.Paused {
		return Decision{Action: ActionNone, Message: "paused"}
	}
	allKnown := true
	for _, m := range in.Members {
		if !m.Known {
			allKnown = false
		}
	}
	deadline := in.Created.Add(in.Policy.DetectionWindow)
	if !allKnown && in.Now.Before(deadline) {
		return Decision{Action: ActionNone, RequeueAfter: until(in.Now, deadline),
			Message: "waiting for every member's first health check"}
	}
	best, ok := BestCandidate(in.Members, "")
	if !ok {
		return Decision{Action: ActionNoCandidate, Message: "no healthy member with priority above 0"}
	}
	return Decision{Action: ActionElect, To: best.Name, Reason: ReasonInitialElection}
}

func decideWithActive(in Input, active string) Decision {
	cur, _ := in.member(active)
	if !cur.Known {
		return Decision{Action: ActionNone, Message: fmt.Sprintf("waiting for the first health check of %q", active)}
	}
	if cur.up() {
		d := Decision{Action: ActionNone}
		if !in.Now.Before(in.Lease.RenewAt()) {
			d.Renew = true
			d.RequeueAfter = in.Lease.Duration / 3
		} else {
			d.RequeueAfter = until(in.Now, in.Lease.RenewAt())
		}
		if fb, wait, ok := failbackTarget(in, cur); ok {
			if wait <= 0 {
				d.Action, d.From, d.To, d.Reason = ActionFailback, active, fb.Name, ReasonFailback
			} else {
				d.RequeueAfter = soonest(d.RequeueAfter, wait)
			}
		}
		return d
	}

	best, ok := BestCandidate(in.Members, active)
	switch {
	case !ok:
		return Decision{Action: ActionNoCandidate, From: active,
			Message: fmt.Sprintf("active member %q is down and no other member is healthy with priority above 0", active)}
	case in.Policy.Paused:
		return Decision{Action: ActionFailoverRequired, From: active, To: best.Name,
			Message: fmt.Sprintf("active member %q is down; the group is paused, so %q is not promoted", active, best.Name)}
	case in.Policy.Mode == v1alpha1.FailoverManual:
		return Decision{Action: ActionFailoverRequired, From: active, To: best.Name,
			Message: fmt.Sprintf("active member %q is down; failover mode is Manual: switch over to %q by hand", active, best.Name)}
	case !in.Lease.Expired(in.Now):
		return Decision{Action: ActionNone, From: active, To: best.Name,
			RequeueAfter: until(in.Now, in.Lease.ExpiresAt()),
			Message:      fmt.Sprintf("active member %q is down; its Lease expires at %s", active, in.Lease.ExpiresAt().UTC().Format("15:04:05.000"))}
	}
	if refused, why := exceedsMaxDataLoss(in.Policy.MaxDataLoss, best.DataBehind); refused {
		if in.ForceFailoverTo != best.Name {
			return Decision{Action: ActionFailoverRefused, From: active, To: best.Name,
				Message: fmt.Sprintf("active member %q is down; %q %s: not promoted automatically (annotate understudy.dev/force-failover=%s to accept the loss)",
					active, best.Name, why, best.Name)}
		}
		return Decision{Action: ActionFailover, From: active, To: best.Name, Reason: ReasonForced}
	}
	return Decision{Action: ActionFailover, From: active, To: best.Name, Reason: ReasonFailover}
}

// failbackTarget is the preferred member to return to, and how long until its failback delay is
// served; ok is false when failback does not apply.
func failbackTarget(in Input, cur MemberView) (MemberView, time.Duration, bool) {
	if in.Policy.Failback != v1alpha1.FailbackAutomatic || in.Policy.Paused || in.Policy.Mode == v1alpha1.FailoverManual {
		return MemberView{}, 0, false
	}
	best, ok := BestCandidate(in.Members, cur.Name)
	if !ok || best.Priority <= cur.Priority {
		return MemberView{}, 0, false
	}
	since := best.HealthySince
	if since.IsZero() {
		since = in.Now // unknown: the delay starts now
	}
	wait := since.Add(in.Policy.FailbackDelay).Sub(in.Now)
	return best, wait, true
}

// exceedsMaxDataLoss says whether promoting a candidate that is behind by DataBehind breaks the
// limit, and why. No limit (nil) never refuses; a positive limit refuses only a known lag above it;
// a zero limit ("never lose shipped data") refuses any lag and an unknown position too.
func exceedsMaxDataLoss(limit, behind *time.Duration) (bool, string) {
	switch {
	case limit == nil:
		return false, ""
	case *limit == 0 && behind == nil:
		return true, "has no known data position and maxDataLoss is 0s (never lose shipped data)"
	case *limit == 0 && *behind > 0:
		return true, fmt.Sprintf("is %s behind and maxDataLoss is 0s (never lose shipped data)", behind.Round(time.Second))
	case behind != nil && *behind > *limit:
		return true, fmt.Sprintf("is %s behind, more than maxDataLoss %s", behind.Round(time.Second), *limit)
	}
	return false, ""
}
