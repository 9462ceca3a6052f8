package controllers

import (
	"time"

	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
	"github.com/understudy-dev/understudy/internal/lease"
	"github.com/understudy-dev/understudy/internal/notify"
)

// runFailover moves the active role: fence the old member, take the Lease for the new one, promote
// it, route to it. Each step is recorded in status.inProgress before the next begins, and each is
// safe to repeat, so an operator that crashes between any two steps resumes where it stopped.
func (r *FailoverGroupReconciler) runFailover(ctx context.Context, g *v1alpha1.FailoverGroup, w *world, d failover.Decision) (ctrl.Result, error) {
	if g.Status.InProgress == nil {
		if err := r.startFailover(ctx, g, w, d); err != nil {
			return ctrl.Result{}, err
		}
	}
	for {
		// Status writes decode the server's answer into g: always work on the current record.
		p := g.Status.InProgress
		if p == nil {
			return ctrl.Result{RequeueAfter: requeueSoon}, nil
		}
		res, next, err := r.runStep(ctx, g, w, p)
		if err != nil || next == "" {
			return res, err
		}
		p.Step = next
		if err := r.recordStep(ctx, g, w); err != nil {
			return ctrl.Result{}, err
		}
		if err := r.afterStep(g, next); err != nil {
			return ctrl.Result{}, err
		}
	}
}

// startFailover records the decision as status.inProgress (step Started).
func (r *FailoverGroupReconciler) startFailover(ctx context.Context, g *v1alpha1.FailoverGroup, w *world, d failover.Decision) error {
	g.Status.InProgress = &v1alpha1.FailoverProgress{From: d.From, To: d.To, Reason: string(d.Reason),
		Step: v1alpha1.StepStarted, StartedAt: metav1.NewMicroTime(w.now)}
	if err := r.recordStep(ctx, g, w); err != nil {
		return err
	}
	r.eventStarted(g)
	return r.afterStep(g, v1alpha1.StepStarted)
}

// runStep carries out the step after p.Step and returns the step to record next, or "" when the
// failover stops here for now (res says when to look again) or is complete.
func (r *FailoverGroupReconciler) runStep(ctx context.Context, g *v1alpha1.FailoverGroup, w *world, p *v1alpha1.FailoverProgress) (ctrl.Result, v1alpha1.FailoverStep, error) {
	switch p.Step {
	case v1alpha1.StepStarted:
		return ctrl.Result{}, v1alpha1.StepFenced, r.fence(ctx, g, w, p)

	case v1alpha1.StepFenced:
		res, done, err := r.takeLease(ctx, g, w, p)
		if err != nil || !done {
			return res, "", err
		}
		if g.Status.InProgress == nil { // abandoned: somebody else moved the role
			return ctrl.Result{RequeueAfter: requeueSoon}, "", nil
		}
		return ctrl.Result{}, v1alpha1.StepLeaseTaken, nil

	case v1alpha1.StepLeaseTaken:
		report, err := r.Promoter.Promote(ctx, g, p.From, p.To, p.Reason)
		if err != nil {
			r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonPromotionFailed, "Promote", "promoting %s failed: %v", p.To, err)
			return ctrl.Result{}, "", fmt.Errorf("promote %s: %w", p.To, err)
		}
		if report.EstimatedDataLoss != nil {
			p.EstimatedDataLoss = v1alpha1.DurationPtr(*report.EstimatedDataLoss)
		}
		for _, w := range report.Warnings {
			r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonDatabaseSettingsNotRestored, "Promote", "%s on %s: %s", p.To, g.Name, w)
		}
		return ctrl.Result{}, v1alpha1.StepPromoted, nil

	case v1alpha1.StepPromoted:
		rr, err := r.route(ctx, g, w, p)
		if err != nil {
			return ctrl.Result{}, "", err
		}
		return ctrl.Result{RequeueAfter: requeueSoon}, "", r.complete(ctx, g, w, p, rr)
	}
	logf.FromContext(ctx).Info("unknown failover step; starting the routing step again", "step", p.Step)
	p.Step = v1alpha1.StepPromoted
	return r.runStep(ctx, g, w, p)
}

func (r *FailoverGroupReconciler) afterStep(g *v1alpha1.FailoverGroup, step v1alpha1.FailoverStep) error {
	if r.AfterStep == nil {
		return nil
	}
	return r.AfterStep(g.Namespace+"/"+g.Name, step)
}

// fence moves traffic away from the old member: the Service selects nothing and the old member's
// pods are labelled fenced. The DNS record of the active role is left as it is until the route step
// replaces it (withdrawing it would leave the name NXDOMAIN, negatively cached by resolvers).
func (r *FailoverGroupReconciler) fence(ctx context.Context, g *v1alpha1.FailoverGroup, w *world, p *v1alpha1.FailoverProgress) error {
	roles, readable := memberRoles(g, w, "", p)
	if err := r.labelPods(ctx, g, w.pods, roles, readable); err != nil {
		return err
	}
	if _, err := r.applyRouting(ctx, g, routeState{readable: readableMembers(g, readable), keepDNS: true}); err != nil {
		return err
	}
	if p.From != "" {
		r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonFenced, "Fence", "member %s fenced: routing moved away from it", p.From)
	}
	return nil
}

// takeLease gives the Lease to the new member (compare-and-swap). For an unplanned failover the
// old holder's Lease must have expired. done is false when the step must be tried again later.
func (r *FailoverGroupReconciler) takeLease(ctx context.Context, g *v1alpha1.FailoverGroup, w *world, p *v1alpha1.FailoverProgress) (ctrl.Result, bool, error) {
	holder := lease.Holder(w.lease)
	if holder == p.To {
		return ctrl.Result{}, true, nil
	}
	if holder != "" && holder != p.From && isMember(g, holder) {
		// Another writer already gave the role to someone else: follow the Lease.
		r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonFailoverAbandoned, "Failover",
			"failover to %s abandoned: the Lease is already held by %s", p.To, holder)
		g.Status.InProgress = nil
		return ctrl.Result{}, true, r.recordStep(ctx, g, w)
	}
	if h := w.health[p.To]; !h.known {
		// A restarted operator has not probed yet: wait for the first result rather than abort.
		return ctrl.Result{RequeueAfter: seconds(g.Spec.HealthCheck.PeriodSeconds)}, false, nil
	} else if !h.healthy {
		r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonFailoverAborted, "Failover",
			"failover to %s aborted before it took the role: %s is no longer healthy", p.To, p.To)
		g.Status.InProgress = nil
		return ctrl.Result{RequeueAfter: requeueSoon}, false, r.recordStep(ctx, g, w)
	}
	view := w.input(g).Lease
	if failover.Reason(p.Reason).Unplanned() && holder != "" && !view.Expired(w.now) {
		return ctrl.Result{RequeueAfter: view.ExpiresAt().Sub(w.now)}, false, nil
	}
	l, err := r.Leases.Take(ctx, g, w.lease, p.To, w.leaseDuration(g), w.now)
	if errors.Is(err, lease.ErrLostRace) {
		return ctrl.Result{RequeueAfter: requeueSoon}, false, nil
	}
	if err != nil {
		return ctrl.Result{}, false, err
	}
	w.lease = l
	r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonLeaseTaken, "TakeLease", "member %s holds the Lease", p.To)
	return ctrl.Result{}, true, nil
}

// route points everything at the new active member, which holds the Lease.
func (r *FailoverGroupReconciler) route(ctx context.Context, g *v1alpha1.FailoverGroup, w *world, p *v1alpha1.FailoverProgress) (*routingResult, error) {
	holder := lease.Holder(w.lease)
	if holder != p.To {
		return nil, fmt.Errorf("route to %s: the Lease is held by %q", p.To, holder)
	}
	done := *p
	done.Step = v1alpha1.StepRouted
	roles, readable := memberRoles(g, w, holder, &done)
	if err := r.labelPods(ctx, g, w.pods, roles, readable); err != nil {
		return nil, err
	}
	return r.applyRouting(ctx, g, routeState{active: memberByName(g, holder), readable: readableMembers(g, readable)})
}

// complete records the finished failover.
func (r *FailoverGroupReconciler) complete(ctx context.Context, g *v1alpha1.FailoverGroup, w *world, p *v1alpha1.FailoverProgress, rr *routingResult) error {
	now := metav1.NewMicroTime(r.Clock.Now())
	g.Status.LastFailover = &v1alpha1.FailoverRecord{From: p.From, To: p.To, Reason: p.Reason, StartedAt: p.StartedAt,
		CompletedAt: &now, EstimatedDataLoss: p.EstimatedDataLoss}
	g.Status.FailoverCount++
	g.Status.InProgress = nil
	if failover.Reason(p.Reason).Unplanned() && p.From != "" {
		markFenced(g, p.From)
	}
	if err := r.writeStatus(ctx, g, w, rr, nil); err != nil {
		return err
	}
	key := g.Namespace + "/" + g.Name
	failoversTotal.WithLabelValues(key, p.Reason).Inc()
	failoverDuration.WithLabelValues(p.Reason).Observe(now.Sub(p.StartedAt.Time).Seconds())
	r.eventCompleted(ctx, g, p, now.Sub(p.StartedAt.Time))
	if failover.Reason(p.Reason) == failover.ReasonSwitchover && g.Annotations[v1alpha1.AnnotationSwitchoverTo] == p.To {
		if err := r.clearAnnotation(ctx, g, v1alpha1.AnnotationSwitchoverTo); err != nil {
			return err
		}
	}
	if failover.Reason(p.Reason) == failover.ReasonForced && g.Annotations[v1alpha1.AnnotationForceFailover] == p.To {
		if err := r.clearAnnotation(ctx, g, v1alpha1.AnnotationForceFailover); err != nil {
			return err
		}
	}
	return nil
}

// clearAnnotation removes a request annotation once it is done.
func (r *FailoverGroupReconciler) clearAnnotation(ctx context.Context, g *v1alpha1.FailoverGroup, key string) error {
	patch := client.MergeFrom(g.DeepCopy())
	delete(g.Annotations, key)
	if err := r.Patch(ctx, g, patch); err != nil {
		return fmt.Errorf("remove annotation %s: %w", key, err)
	}
	return nil
}

// markFenced keeps the old member's role Fenced in status until it is healthy again.
func markFenced(g *v1alpha1.FailoverGroup, name string) {
	for i := range g.Status.Members {
		if g.Status.Members[i].Name == name {
			g.Status.Members[i].Role = v1alpha1.RoleFenced
			return
		}
	}
	g.Status.Members = append(g.Status.Members, v1alpha1.MemberStatus{Name: name, Role: v1alpha1.RoleFenced})
}

func (r *FailoverGroupReconciler) eventStarted(g *v1alpha1.FailoverGroup) {
	p := g.Status.InProgress
	switch failover.Reason(p.Reason) {
	case failover.ReasonInitialElection:
		r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonElecting, "Elect", "electing %s as the active member", p.To)
	case failover.ReasonFailover:
		r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonFailoverStarted, "Failover", "active member %s is down: failing over to %s", p.From, p.To)
	case failover.ReasonForced:
		r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonFailoverStarted, "Failover",
			"active member %s is down: failing over to %s beyond maxDataLoss, as forced by annotation", p.From, p.To)
	default:
		r.event(g, corev1.EventTypeNormal, startedReason(failover.Reason(p.Reason)), p.Reason, "%s from %s to %s started", p.Reason, p.From, p.To)
	}
}

// startedReason is the Event reason of a planned move's start.
func startedReason(reason failover.Reason) string {
	switch reason {
	case failover.ReasonSwitchover:
		return v1alpha1.EventReasonSwitchoverStarted
	case failover.ReasonFailback:
		return v1alpha1.EventReasonFailbackStarted
	}
	return string(reason) + "Started" // not a reason this operator records (status edited by hand)
}

// completedReason is the Event reason of a finished move other than the initial election.
func completedReason(reason failover.Reason) string {
	switch reason {
	case failover.ReasonFailover:
		return v1alpha1.EventReasonFailoverCompleted
	case failover.ReasonForced:
		return v1alpha1.EventReasonForcedCompleted
	case failover.ReasonSwitchover:
		return v1alpha1.EventReasonSwitchoverCompleted
	case failover.ReasonFailback:
		return v1alpha1.EventReasonFailbackCompleted
	}
	return string(reason) + "Completed" // not a reason this operator records (status edited by hand)
}

func (r *FailoverGroupReconciler) eventCompleted(ctx context.Context, g *v1alpha1.FailoverGroup, p *v1alpha1.FailoverProgress, took time.Duration) {
	if failover.Reason(p.Reason) == failover.ReasonInitialElection {
		r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonElected, "Elect", "member %s is active", p.To)
		return
	}
	r.event(g, corev1.EventTypeNormal, completedReason(failover.Reason(p.Reason)), p.Reason, "%s from %s to %s completed in %s", p.Reason, p.From, p.To, took)
	ev := notify.EventFailover
	if !failover.Reason(p.Reason).Unplanned() {
		ev = notify.EventSwitchover
	}
	if failover.Reason(p.Reason) == failover.ReasonFailback {
		ev = notify.EventFailback
	}
	r.notify(ctx, g, notify.Event{Event: ev, From: p.From, To: p.To, Reason: p.Reason})
}

func isMember(g *v1alpha1.FailoverGroup, name string) bool { return memberByName(g, name) != nil }

func memberByName(g *v1alpha1.FailoverGroup, name string) *v1alpha1.Member {
	for i := range g.Spec.Members {
		if g.Spec.Members[i].Name == name {
			return &g.Spec.Members[i]
		}
	}
	return nil
}

func readableMembers(g *v1alpha1.FailoverGroup, readable map[string]bool) []v1alpha1.Member {
	var out []v1alpha1.Member
	for _, m := range g.Spec.Members {
		if readable[m.Name] {
			out = append(out, m)
		}
	}
	return out
}
