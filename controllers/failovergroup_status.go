package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
	"github.com/understudy-dev/understudy/internal/notify"
)

// memberRoles assigns each member its role and says which may serve reads (failover.Roles), with holder
// holding the Lease and p the failover in progress.
func memberRoles(g *v1alpha1.FailoverGroup, w *world, holder string, p *v1alpha1.FailoverProgress) (map[string]v1alpha1.MemberRole, map[string]bool) {
	a := failover.Roles(w.input(g).Members, holder, progressOf(p))
	return a.Roles, a.Readable
}

func progressOf(p *v1alpha1.FailoverProgress) *failover.Progress {
	if p == nil {
		return nil
	}
	return &failover.Progress{From: p.From, To: p.To, Reason: failover.Reason(p.Reason), Step: p.Step}
}

// recordStep writes the status during a failover (compare-and-swap on the group's resourceVersion).
func (r *FailoverGroupReconciler) recordStep(ctx context.Context, g *v1alpha1.FailoverGroup, w *world) error {
	return r.writeStatus(ctx, g, w, nil, nil)
}

// writeStatus recomputes the status from the snapshot and writes it when it changed. Events and
// webhooks for members going down or up are sent here, where the change is seen.
func (r *FailoverGroupReconciler) writeStatus(ctx context.Context, g *v1alpha1.FailoverGroup, w *world, rr *routingResult, d *failover.Decision) error {
	in := w.input(g)
	holder := in.Holder()
	sum := failover.Summarize(in, failover.SummaryInput{Decision: d, Routing: rr.verdict(),
		HasReady: meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionReady) != nil})
	members, healthyCount := r.memberStatuses(ctx, g, w, sum.Roles)
	g.Status.Members = members
	g.Status.ObservedGeneration = g.Generation
	g.Status.ActiveMember = holder
	g.Status.Healthy = fmt.Sprintf("%d/%d", healthyCount, len(g.Spec.Members))
	g.Status.Phase = sum.Phase
	for _, c := range sum.Conditions {
		setCondition(g, c)
	}
	g.Status.FailoverReadiness = readinessStatus(sum.Readiness)
	observeReadiness(g, sum.Readiness)

	if w.written != nil && equalStatus(failoverOwned(w.written), failoverOwned(&g.Status)) {
		return nil
	}
	if err := applyFailoverStatus(ctx, r.Client, g); err != nil {
		if apierrors.IsConflict(err) {
			return fmt.Errorf("write status (the group changed meanwhile; retrying): %w", err)
		}
		return fmt.Errorf("write status: %w", err)
	}
	w.written = g.Status.DeepCopy()
	return nil
}

// memberStatuses is status.members from the probes, with the roles given; the restore positions
// (databases) belong to the log-shipping reconciler and are kept. A member whose health flipped gets
// its Event and webhook here.
func (r *FailoverGroupReconciler) memberStatuses(ctx context.Context, g *v1alpha1.FailoverGroup, w *world, roles map[string]v1alpha1.MemberRole) ([]v1alpha1.MemberStatus, int) {
	prev := previousMembers(g)
	now := metav1.NewTime(w.now)
	members := make([]v1alpha1.MemberStatus, 0, len(g.Spec.Members))
	healthyCount := 0
	for _, m := range g.Spec.Members {
		h := w.health[m.Name]
		p, seen := prev[m.Name]
		ms := v1alpha1.MemberStatus{Name: m.Name, Role: roles[m.Name], Healthy: h.healthy,
			ConsecutiveFailures: int32(h.consecutiveFailures), Message: h.message, Databases: p.Databases}
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
		}
		if seen && h.known && p.Healthy != h.healthy && (p.LastProbeTime != nil || p.Healthy) {
			r.memberChanged(ctx, g, m.Name, h)
		}
		members = append(members, ms)
	}
	return members, healthyCount
}

func (r *FailoverGroupReconciler) memberChanged(ctx context.Context, g *v1alpha1.FailoverGroup, name string, h memberHealth) {
	if h.healthy {
		r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonMemberUp, "Probe", "member %s is healthy", name)
		r.notify(ctx, g, notify.Event{Event: notify.EventMemberUp, To: name, Reason: "healthy"})
		return
	}
	r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonMemberDown, "Probe", "member %s is down: %s", name, h.message)
	r.notify(ctx, g, notify.Event{Event: notify.EventMemberDown, From: name, Reason: h.message})
}

func setCondition(g *v1alpha1.FailoverGroup, c failover.Condition) {
	status := metav1.ConditionFalse
	if c.True {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&g.Status.Conditions, metav1.Condition{Type: c.Type, Status: status, Reason: c.Reason,
		Message: c.Message, ObservedGeneration: g.Generation})
}

func readinessStatus(r failover.Readiness) *v1alpha1.FailoverReadiness {
	out := &v1alpha1.FailoverReadiness{Candidate: r.Candidate, Reason: r.Reason, Message: r.Message,
		BlockedByMaxDataLoss: r.BlockedByMaxDataLoss}
	if r.DataAtRisk != nil {
		out.DataAtRisk = v1alpha1.DurationPtr(*r.DataAtRisk)
	}
	return out
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
