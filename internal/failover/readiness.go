package failover

import (
	"fmt"
	"strings"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// Readiness is what Decide would do if the active member failed now (its Lease expired, no
// switchover asked for): who it would promote, why, and what that would lose.
type Readiness struct {
	// Ready: an automatic failover would happen now without breaking maxDataLoss.
	Ready bool
	// Reason is the FailoverReady condition's reason: a v1alpha1.ReasonFailoverReady... constant.
	Reason string
	// Candidate is the member that would be promoted ("" when none).
	Candidate string
	// Message explains the choice, or why there is none.
	Message string
	// DataAtRisk is the candidate's DataBehind (nil when unknown or not applicable).
	DataAtRisk *time.Duration
	// BlockedByMaxDataLoss: the candidate is further behind than maxDataLoss allows.
	BlockedByMaxDataLoss bool
}

// Condition is the FailoverReady condition.
func (r Readiness) Condition() Condition {
	return Condition{Type: v1alpha1.ConditionFailoverReady, True: r.Ready, Reason: r.Reason, Message: r.Message}
}

// FailoverReadiness asks Decide's rules the question "what if the active member died now".
func FailoverReadiness(in Input) Readiness {
	holder := in.Holder()
	if p := in.InProgress; p != nil {
		return Readiness{Reason: v1alpha1.ReasonFailoverReadyFailoverInProgress, Candidate: p.To,
			Message: fmt.Sprintf("%s from %q to %q in progress (step %s)", p.Reason, p.From, p.To, p.Step)}
	}
	if holder == "" {
		return Readiness{Reason: v1alpha1.ReasonFailoverReadyNoActiveMember,
			Message: "no member holds the active role: there is nothing to fail over from (an election comes first)"}
	}
	best, ok := BestCandidate(in.Members, holder)
	if !ok {
		return Readiness{Reason: v1alpha1.ReasonFailoverReadyNoCandidate,
			Message: fmt.Sprintf("if %q failed now, no member could take over: %s", holder, strings.Join(notCandidates(in.Members, holder, ""), "; "))}
	}
	r := Readiness{Candidate: best.Name, DataAtRisk: roundedBehind(best.DataBehind)}
	why := fmt.Sprintf("if %q failed now, %q would be promoted: %s; data at risk: %s", holder, best.Name, whyBest(in.Members, holder, best), atRisk(best.DataBehind))
	if others := notCandidates(in.Members, holder, best.Name); len(others) > 0 {
		why += "; not candidates: " + strings.Join(others, "; ")
	}
	refused, limitWhy := exceedsMaxDataLoss(in.Policy.MaxDataLoss, best.DataBehind)
	switch {
	case in.Policy.Paused:
		r.Reason, r.Message = v1alpha1.ReasonFailoverReadyPaused, "the group is paused: nothing would be promoted; otherwise "+why
	case in.Policy.Mode == v1alpha1.FailoverManual:
		r.Reason, r.Message = v1alpha1.ReasonFailoverReadyManualMode, "failover mode is Manual: a person must switch over; "+why
	case refused:
		r.Reason, r.BlockedByMaxDataLoss = v1alpha1.ReasonFailoverReadyMaxDataLossExceeded, true
		r.Message = fmt.Sprintf("%s; but %q %s: the failover would be refused", why, best.Name, limitWhy)
	default:
		r.Ready, r.Reason, r.Message = true, v1alpha1.ReasonFailoverReadyCandidateReady, why
	}
	return r
}

// whyBest says why best beats the others: priority, then data position, then spec order (see better).
func whyBest(members []MemberView, holder string, best MemberView) string {
	next, ok := BestCandidate(members, holder, best.Name)
	switch {
	case !ok:
		return fmt.Sprintf("the only healthy member with priority above 0 (priority %d)", best.Priority)
	case best.Priority != next.Priority:
		return fmt.Sprintf("highest priority (%d; next %q has %d)", best.Priority, next.Name, next.Priority)
	case best.Position != nil && next.Position == nil:
		return fmt.Sprintf("priority %d like %q, and a known data position (%q's is unknown)", best.Priority, next.Name, next.Name)
	case best.Position != nil && best.Position.Cmp(next.Position) != 0:
		return fmt.Sprintf("priority %d like %q, and more data (position %s, %q has %s)", best.Priority, next.Name, best.Position, next.Name, next.Position)
	}
	return fmt.Sprintf("priority %d and data position like %q, and first in spec.members", best.Priority, next.Name)
}

// notCandidates says why each member other than the holder and the chosen one cannot take over.
func notCandidates(members []MemberView, holder, chosen string) []string {
	var out []string
	for _, m := range members {
		var why string
		switch {
		case m.Name == holder || m.Name == chosen:
			continue
		case m.Priority == 0:
			why = "priority 0 (disabled)"
		case !m.Known:
			why = "not probed yet"
		case !m.Healthy:
			why = "down"
			if m.Message != "" {
				why += " (" + m.Message + ")"
			}
		case m.Rejoining:
			why = "rejoining after a failover (its data is not a standby copy yet)"
		default:
			continue // a candidate that lost to the chosen one
		}
		out = append(out, fmt.Sprintf("%q %s", m.Name, why))
	}
	return out
}

func atRisk(behind *time.Duration) string {
	if behind == nil {
		return "unknown"
	}
	return roundedBehind(behind).String()
}

// roundedBehind is DataBehind in whole seconds, so the status does not change at every restore.
func roundedBehind(behind *time.Duration) *time.Duration {
	if behind == nil {
		return nil
	}
	d := behind.Round(time.Second)
	return &d
}
