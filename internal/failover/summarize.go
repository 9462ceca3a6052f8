package failover

import (
	"fmt"
	"strings"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// Condition is a status condition as the state machine sees it; the controller adds the generation
// and the transition time.
type Condition struct {
	Type    string
	True    bool
	Reason  string
	Message string
}

// RoutingVerdict is what applying the routing said, for the Ready and Degraded conditions.
type RoutingVerdict struct {
	// NotReadyReason and NotReadyMessage say why routing does not point at the active member yet
	// (a conflict, an invalid spec, DNS not published); empty when it does.
	NotReadyReason, NotReadyMessage string
	// Notes are problems worth reporting that do not stop traffic (Degraded).
	Notes []string
}

// Summary is the group's status as derived from one snapshot.
type Summary struct {
	Phase v1alpha1.Phase
	// Conditions to set, in this order. Ready is absent when routing was not looked at in this pass
	// (a failover step) and the group has a Ready condition: the last verdict stands.
	Conditions []Condition
	// Roles are the members' roles as reported in status: Unknown for a standby never probed yet.
	Roles map[string]v1alpha1.MemberRole
	// Readiness is what would happen if the active member failed now.
	Readiness Readiness
}

// SummaryInput is what Summarize needs besides the snapshot.
type SummaryInput struct {
	// Decision is this pass's decision (nil while a failover step is being recorded).
	Decision *Decision
	// Routing is nil when routing was not applied in this pass.
	Routing *RoutingVerdict
	// HasReady says the group already has a Ready condition.
	HasReady bool
}

// Summarize derives the phase, the conditions and the members' roles from the snapshot.
func Summarize(in Input, s SummaryInput) Summary {
	holder := in.Holder()
	roles := Roles(in.Members, holder, in.InProgress).Roles
	for _, m := range in.Members {
		if roles[m.Name] == v1alpha1.RoleStandby && !m.Known {
			roles[m.Name] = v1alpha1.RoleUnknown
		}
	}
	out := Summary{Roles: roles, Readiness: FailoverReadiness(in)}
	available := availableCondition(in, holder)
	out.Conditions = append(out.Conditions, available)
	if ready, ok := readyCondition(available, holder, s); ok {
		out.Conditions = append(out.Conditions, ready)
	}
	degraded := degradedCondition(in.Members, s)
	out.Conditions = append(out.Conditions, degraded)
	if c, ok := failoverRequiredCondition(in, s.Decision); ok {
		out.Conditions = append(out.Conditions, c)
	}
	out.Conditions = append(out.Conditions, out.Readiness.Condition())
	out.Phase = phase(in, holder, s.Decision, degraded.True)
	return out
}

// Holder is the Lease holder when it is a member ("" otherwise).
func (in Input) Holder() string {
	if !in.Lease.Exists || in.Lease.Holder == "" {
		return ""
	}
	if _, ok := in.member(in.Lease.Holder); !ok {
		return ""
	}
	return in.Lease.Holder
}

func availableCondition(in Input, holder string) Condition {
	c := Condition{Type: v1alpha1.ConditionAvailable}
	cur, _ := in.member(holder)
	switch p := in.InProgress; {
	case p != nil:
		c.Reason, c.Message = v1alpha1.ReasonAvailableFailoverInProgress, fmt.Sprintf("%s to %s in progress (step %s)", p.Reason, p.To, p.Step)
	case holder == "":
		c.Reason, c.Message = v1alpha1.ReasonAvailableNoActiveMember, "no member holds the active role"
	case !cur.Healthy:
		c.Reason, c.Message = v1alpha1.ReasonAvailableActiveMemberDown, fmt.Sprintf("active member %s is down: %s", holder, cur.Message)
	default:
		c.True, c.Reason, c.Message = true, v1alpha1.ReasonAvailableActiveMemberHealthy, fmt.Sprintf("member %s is active and healthy", holder)
	}
	return c
}

// readyCondition: not Ready while not Available (same reason), nor while routing does not point at
// the active member; ok is false when the last verdict stands.
func readyCondition(available Condition, holder string, s SummaryInput) (Condition, bool) {
	c := Condition{Type: v1alpha1.ConditionReady}
	switch rt := s.Routing; {
	case !available.True:
		c.Reason, c.Message = available.Reason, available.Message
	case rt != nil && rt.NotReadyReason != "":
		c.Reason, c.Message = rt.NotReadyReason, rt.NotReadyMessage
	case rt == nil:
		if s.HasReady {
			return Condition{}, false
		}
		c.Reason, c.Message = v1alpha1.ReasonReadyRoutingPending, "routing not applied yet"
	default:
		c.True, c.Reason = true, v1alpha1.ReasonReadyActive
		c.Message = fmt.Sprintf("member %s is active and routing points at it", holder)
		if len(rt.Notes) > 0 {
			c.Message += "; " + strings.Join(rt.Notes, "; ")
		}
	}
	return c, true
}

// degradedCondition is True (Degraded) when a member is down, no member can take over, or routing
// reported a problem; its reason is TLSRefused when a member is down because the operator refused
// its TLS connection, else StandbyNotRestoring when a standby is down because its databases are not
// restoring (the SQL Server health check starts the member's message with the reason).
func degradedCondition(members []MemberView, s SummaryInput) Condition {
	var why, down, tlsRefused, notRestoring []string
	for _, m := range members {
		if m.Healthy {
			continue
		}
		down = append(down, m.Name)
		switch {
		case strings.HasPrefix(m.Message, v1alpha1.ReasonDegradedTLSRefused+":"):
			tlsRefused = append(tlsRefused, m.Name)
		case strings.HasPrefix(m.Message, v1alpha1.ReasonDegradedStandbyNotRestoring+":"):
			notRestoring = append(notRestoring, m.Name)
		}
	}
	if len(down) > 0 {
		why = append(why, "members down: "+strings.Join(down, ", "))
	}
	if len(tlsRefused) > 0 {
		why = append(why, "connection refused for TLS on "+strings.Join(tlsRefused, ", ")+" (see the member's message and spec.sqlServer.tls)")
	}
	if len(notRestoring) > 0 {
		why = append(why, "databases not restoring on "+strings.Join(notRestoring, ", ")+" (see the member's message)")
	}
	if s.Decision != nil && s.Decision.Action == ActionNoCandidate {
		why = append(why, s.Decision.Message)
	}
	if s.Routing != nil {
		why = append(why, s.Routing.Notes...)
	}
	if len(why) == 0 {
		return Condition{Type: v1alpha1.ConditionDegraded, Reason: v1alpha1.ReasonDegradedAllMembersHealthy, Message: "every member is healthy"}
	}
	reason := v1alpha1.ReasonDegraded
	switch {
	case len(tlsRefused) > 0:
		reason = v1alpha1.ReasonDegradedTLSRefused
	case len(notRestoring) > 0:
		reason = v1alpha1.ReasonDegradedStandbyNotRestoring
	}
	return Condition{Type: v1alpha1.ConditionDegraded, True: true, Reason: reason, Message: strings.Join(why, "; ")}
}

// failoverRequiredCondition is True when the active member is down and a person must act (Manual
// mode, paused, or maxDataLoss refused the candidate); ok is false when this pass says nothing.
func failoverRequiredCondition(in Input, d *Decision) (Condition, bool) {
	c := Condition{Type: v1alpha1.ConditionFailoverRequired}
	switch {
	case d == nil:
		return c, false
	case d.Action == ActionFailoverRequired:
		c.True, c.Reason, c.Message = true, v1alpha1.ReasonFailoverRequired, d.Message
	case d.Action == ActionFailoverRefused:
		c.True, c.Reason, c.Message = true, v1alpha1.ReasonFailoverRequiredMaxDataLossExceeded, d.Message
	case in.InProgress != nil:
		return c, false
	default:
		c.Reason, c.Message = v1alpha1.ReasonFailoverRequiredNotRequired, "no failover needed"
	}
	return c, true
}

// phase is the one-word state for kubectl get: a group with an active member is Degraded when that
// member is down or the Degraded condition holds.
func phase(in Input, holder string, d *Decision, degraded bool) v1alpha1.Phase {
	p := in.InProgress
	cur, _ := in.member(holder)
	switch {
	case in.Policy.Paused && p == nil:
		return v1alpha1.PhasePaused
	case p != nil && p.Reason.Unplanned():
		return v1alpha1.PhaseFailingOver
	case p != nil && p.Reason == ReasonInitialElection:
		return v1alpha1.PhaseInitializing
	case p != nil:
		return v1alpha1.PhaseSwitchingOver
	case holder == "" && d != nil && d.Action == ActionNoCandidate:
		return v1alpha1.PhaseNoActive
	case holder == "":
		return v1alpha1.PhaseInitializing
	case !cur.Healthy || degraded:
		return v1alpha1.PhaseDegraded
	}
	return v1alpha1.PhaseActive
}
