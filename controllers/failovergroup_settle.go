package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
	"github.com/understudy-dev/understudy/internal/lease"
	"github.com/understudy-dev/understudy/internal/notify"
)

// settle keeps a group without a failover in progress true to its Lease: pod labels, Service,
// DNS, the switchover request's outcome, and status.
func (r *FailoverGroupReconciler) settle(ctx context.Context, g *v1alpha1.FailoverGroup, w *world, d failover.Decision) error {
	holder := lease.Holder(w.lease)
	if !isMember(g, holder) {
		holder = ""
	}
	roles, readable := memberRoles(g, w, holder, nil)
	if err := r.labelPods(ctx, g, w.pods, roles, readable); err != nil {
		return err
	}
	rr, err := r.applyRouting(ctx, g, routeState{active: memberByName(g, holder), readable: readableMembers(g, readable)})
	if err != nil {
		return err
	}

	if err := r.reportDecision(ctx, g, d); err != nil {
		return err
	}
	if err := r.writeStatus(ctx, g, w, rr, &d); err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	return nil
}

// reportDecision tells what a settled group's decision means for people: a refused or completed
// switchover request (condition Switchover, the annotation cleared), a failover refused or required
// (Event and webhook once per change).
func (r *FailoverGroupReconciler) reportDecision(ctx context.Context, g *v1alpha1.FailoverGroup, d failover.Decision) error {
	switch d.Action {
	case failover.ActionRefuseSwitchover:
		if c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionSwitchover); c == nil || c.Message != d.Message {
			r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonSwitchoverRefused, "Switchover", "%s", d.Message)
			r.notify(ctx, g, notify.Event{Event: notify.EventFailoverRefused, To: d.To, Reason: d.Message})
		}
		meta.SetStatusCondition(&g.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionSwitchover,
			Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonSwitchoverRefused, Message: d.Message, ObservedGeneration: g.Generation})
	case failover.ActionSwitchoverDone:
		meta.SetStatusCondition(&g.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionSwitchover,
			Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSwitchoverCompleted, Message: d.Message, ObservedGeneration: g.Generation})
		if err := r.clearAnnotation(ctx, g, v1alpha1.AnnotationSwitchoverTo); err != nil {
			return err
		}
	case failover.ActionFailoverRefused:
		if c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionFailoverRequired); c == nil || c.Message != d.Message {
			r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonFailoverRefused, "Failover", "%s", d.Message)
			r.notify(ctx, g, notify.Event{Event: notify.EventFailoverRefused, From: d.From, To: d.To, Reason: d.Message})
		}
	case failover.ActionFailoverRequired:
		if c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionFailoverRequired); c == nil || c.Status != metav1.ConditionTrue {
			r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonFailoverRequired, "Failover", "%s", d.Message)
			r.notify(ctx, g, notify.Event{Event: notify.EventFailoverRequired, From: d.From, To: d.To, Reason: d.Message})
		}
	}
	return nil
}
