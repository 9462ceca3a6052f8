package controllers

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
	"github.com/understudy-dev/understudy/internal/lease"
	"github.com/understudy-dev/understudy/internal/notify"
)

// roles assigns each member its role. While a failover is between fencing and routing nobody is
// active; afterwards the Lease holder is. A member failed over away from stays Fenced until healthy.
func (r *FailoverGroupReconciler) roles(g *v1alpha1.FailoverGroup, w *world, holder string, p *v1alpha1.FailoverProgress) (map[string]v1alpha1.MemberRole, map[string]bool) {
	prev := previousMembers(g)
	roles := make(map[string]v1alpha1.MemberRole, len(g.Spec.Members))
	readable := make(map[string]bool, len(g.Spec.Members))
	for _, m := range g.Spec.Members {
		h := w.health[m.Name]
		role := v1alpha1.RoleStandby
		switch {
		case p != nil && p.Step != v1alpha1.StepRouted:
			if m.Name == p.From {
				role = v1alpha1.RoleFenced
			}
		case p != nil:
			if m.Name == p.To {
				role = v1alpha1.RoleActive
			} else if m.Name == p.From && failover.Reason(p.Reason).Unplanned() {
				role = v1alpha1.RoleFenced
			}
		default:
			if m.Name == holder {
				role = v1alpha1.RoleActive
			} else if prev[m.Name].Role == v1alpha1.RoleFenced && (!h.healthy || awaitingRejoin(g, m.Name)) {
				role = v1alpha1.RoleFenced
			}
		}
		if role == v1alpha1.RoleStandby && m.Priority == 0 {
			role = v1alpha1.RoleDisabled
		}
		roles[m.Name] = role
		readable[m.Name] = (role == v1alpha1.RoleStandby || role == v1alpha1.RoleDisabled) && h.healthy
	}
	return roles, readable
}

// recordStep writes the status during a failover (compare-and-swap on the group's resourceVersion).
func (r *FailoverGroupReconciler) recordStep(ctx context.Context, g *v1alpha1.FailoverGroup, w *world) error {
	return r.writeStatus(ctx, g, w, nil, nil)
}

// writeStatus recomputes the status from the snapshot and writes it when it changed. Events and
// webhooks for members going down or up are sent here, where the change is seen.
func (r *FailoverGroupReconciler) writeStatus(ctx context.Context, g *v1alpha1.FailoverGroup, w *world, rr *routingResult, d *failover.Decision) error {
	holder := lease.Holder(w.lease)
	if !isMember(g, holder) {
		holder = ""
	}
	roles, _ := r.roles(g, w, holder, g.Status.InProgress)
	prev := previousMembers(g)
	now := metav1.NewTime(w.now)

	members := make([]v1alpha1.MemberStatus, 0, len(g.Spec.Members))
	healthyCount := 0
	var down []string
	for _, m := range g.Spec.Members {
		h := w.health[m.Name]
		p, seen := prev[m.Name]
		ms := v1alpha1.MemberStatus{Name: m.Name, Role: roles[m.Name], Healthy: h.healthy,
			ConsecutiveFailures: int32(h.consecutiveFailures), Message: h.message, Databases: p.Databases}
		if !h.known && ms.Role == v1alpha1.RoleStandby {
			ms.Role = v1alpha1.RoleUnknown
		}
		if !h.lastProbe.IsZero() {
			t := metav1.NewTime(h.lastProbe)
			ms.LastProbeTime = &t
		}
		if h.healthy {
			healthyCount++
			ms.HealthySince = &now
			if seen && p.Healthy && p.HealthySince != nil {
				ms.HealthySince = p.HealthySince
			}
		} else {
			down = append(down, m.Name)
		}
		if seen && h.known && p.Healthy != h.healthy && (p.LastProbeTime != nil || p.Healthy) {
			r.memberChanged(ctx, g, m.Name, h)
		}
		members = append(members, ms)
	}
	g.Status.Members = members
	g.Status.ObservedGeneration = g.Generation
	g.Status.ActiveMember = holder
	g.Status.Healthy = fmt.Sprintf("%d/%d", healthyCount, len(g.Spec.Members))
	r.setPhaseAndConditions(g, w, holder, down, rr, d)

	if w.written != nil && equalStatus(w.written, &g.Status) {
		return nil
	}
	if err := r.Status().Update(ctx, g); err != nil {
		if apierrors.IsConflict(err) {
			return fmt.Errorf("write status (the group changed meanwhile; retrying): %w", err)
		}
		return fmt.Errorf("write status: %w", err)
	}
	w.written = g.Status.DeepCopy()
	return nil
}

func (r *FailoverGroupReconciler) memberChanged(ctx context.Context, g *v1alpha1.FailoverGroup, name string, h memberHealth) {
	if h.healthy {
		r.event(g, "Normal", "MemberUp", "Probe", "member %s is healthy", name)
		r.notify(ctx, g, notify.Event{Event: notify.EventMemberUp, To: name, Reason: "healthy"})
		return
	}
	r.event(g, "Warning", "MemberDown", "Probe", "member %s is down: %s", name, h.message)
	r.notify(ctx, g, notify.Event{Event: notify.EventMemberDown, From: name, Reason: h.message})
}

func (r *FailoverGroupReconciler) setPhaseAndConditions(g *v1alpha1.FailoverGroup, w *world, holder string, down []string, rr *routingResult, d *failover.Decision) {
	gen := g.Generation
	set := func(t string, ok bool, reason, msg string) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&g.Status.Conditions, metav1.Condition{Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen})
	}
	p := g.Status.InProgress
	activeHealthy := holder != "" && w.health[holder].healthy

	switch {
	case p != nil:
		set(v1alpha1.ConditionAvailable, false, "FailoverInProgress", fmt.Sprintf("%s to %s in progress (step %s)", p.Reason, p.To, p.Step))
	case holder == "":
		set(v1alpha1.ConditionAvailable, false, "NoActiveMember", "no member holds the active role")
	case !activeHealthy:
		set(v1alpha1.ConditionAvailable, false, "ActiveMemberDown", fmt.Sprintf("active member %s is down: %s", holder, w.health[holder].message))
	default:
		set(v1alpha1.ConditionAvailable, true, "ActiveMemberHealthy", fmt.Sprintf("member %s is active and healthy", holder))
	}

	var routingMsgs []string
	if rr != nil {
		routingMsgs = rr.messages()
	}
	switch {
	case p != nil || holder == "" || !activeHealthy:
		c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionAvailable)
		set(v1alpha1.ConditionReady, false, c.Reason, c.Message)
	case rr.notReadyReason() != "":
		set(v1alpha1.ConditionReady, false, rr.notReadyReason(), rr.notReadyMessage())
	case rr == nil:
		// Routing was not looked at in this pass (a failover step); keep the last verdict.
		if meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionReady) == nil {
			set(v1alpha1.ConditionReady, false, "RoutingPending", "routing not applied yet")
		}
	default:
		msg := fmt.Sprintf("member %s is active and routing points at it", holder)
		if len(routingMsgs) > 0 {
			msg += "; " + strings.Join(routingMsgs, "; ")
		}
		set(v1alpha1.ConditionReady, true, "Active", msg)
	}

	var degraded []string
	if len(down) > 0 {
		degraded = append(degraded, "members down: "+strings.Join(down, ", "))
	}
	if d != nil && d.Action == failover.ActionNoCandidate {
		degraded = append(degraded, d.Message)
	}
	degraded = append(degraded, routingMsgs...)
	if len(degraded) > 0 {
		set(v1alpha1.ConditionDegraded, true, "Degraded", strings.Join(degraded, "; "))
	} else {
		set(v1alpha1.ConditionDegraded, false, "AllMembersHealthy", "every member is healthy")
	}

	if d != nil {
		if d.Action == failover.ActionFailoverRequired {
			set(v1alpha1.ConditionFailoverRequired, true, "FailoverRequired", d.Message)
		} else if d.Action == failover.ActionFailoverRefused {
			set(v1alpha1.ConditionFailoverRequired, true, "MaxDataLossExceeded", d.Message)
		} else if p == nil {
			set(v1alpha1.ConditionFailoverRequired, false, "NotRequired", "no failover needed")
		}
	}

	switch {
	case g.Spec.Failover.Paused && p == nil:
		g.Status.Phase = v1alpha1.PhasePaused
	case p != nil && failover.Reason(p.Reason).Unplanned():
		g.Status.Phase = v1alpha1.PhaseFailingOver
	case p != nil && failover.Reason(p.Reason) == failover.ReasonInitialElection:
		g.Status.Phase = v1alpha1.PhaseInitializing
	case p != nil:
		g.Status.Phase = v1alpha1.PhaseSwitchingOver
	case holder == "" && d != nil && d.Action == failover.ActionNoCandidate:
		g.Status.Phase = v1alpha1.PhaseNoActive
	case holder == "":
		g.Status.Phase = v1alpha1.PhaseInitializing
	case !activeHealthy || len(degraded) > 0:
		g.Status.Phase = v1alpha1.PhaseDegraded
	default:
		g.Status.Phase = v1alpha1.PhaseActive
	}
}

// equalStatus compares statuses ignoring lastProbeTime: a probe time alone is not worth a write,
// or every group would write its status every period.
func equalStatus(a, b *v1alpha1.FailoverGroupStatus) bool {
	strip := func(s *v1alpha1.FailoverGroupStatus) *v1alpha1.FailoverGroupStatus {
		c := s.DeepCopy()
		for i := range c.Members {
			c.Members[i].LastProbeTime = nil
		}
		return c
	}
	return equality.Semantic.DeepEqual(strip(a), strip(b))
}
