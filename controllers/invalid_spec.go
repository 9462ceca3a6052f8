package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// ReasonInvalidSpec is the Ready condition's reason for an object whose spec the operator cannot use
// (it reached etcd without the API server's validation): nothing is done for it until it is fixed,
// and no other object is affected. It is v1alpha1.ReasonInvalidSpec, kept for callers of this package.
const ReasonInvalidSpec = v1alpha1.ReasonInvalidSpec

// maxConditionMessage is metav1.Condition's limit on message length.
const maxConditionMessage = 32768

// invalidCondition is the Ready=False condition for a spec that failed validation.
func invalidCondition(gen int64, err error) metav1.Condition {
	msg := "the spec cannot be used, fix it: " + err.Error()
	if len(msg) > maxConditionMessage {
		msg = msg[:maxConditionMessage]
	}
	return metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonInvalidSpec,
		Message: msg, ObservedGeneration: gen}
}

// setInvalid puts the InvalidSpec condition into conds; false when it was already there as is (no
// write, no Event).
func setInvalid(conds *[]metav1.Condition, gen int64, verr error) bool {
	cond := invalidCondition(gen, verr)
	old := meta.FindStatusCondition(*conds, v1alpha1.ConditionReady)
	if old != nil && old.Status == cond.Status && old.Reason == cond.Reason && old.Message == cond.Message && old.ObservedGeneration == gen {
		return false
	}
	meta.SetStatusCondition(conds, cond)
	return true
}

// markGroupInvalid stops probing an invalid group and reports it; the Lease, routing and members
// are left as they are, so nothing is lost while the spec is being fixed.
func (r *FailoverGroupReconciler) markGroupInvalid(ctx context.Context, g *v1alpha1.FailoverGroup, key string, verr error) error {
	r.Runner.Remove(key)
	forgetReadiness(key)
	if !setInvalid(&g.Status.Conditions, g.Generation, verr) && g.Status.Phase == v1alpha1.PhaseInvalid {
		return nil
	}
	r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonInvalidSpec, "Validate", "%s", invalidCondition(g.Generation, verr).Message)
	g.Status.Phase = v1alpha1.PhaseInvalid
	g.Status.ObservedGeneration = g.Generation
	g.Status.FailoverReadiness = nil // nothing would be promoted while the spec is invalid
	meta.SetStatusCondition(&g.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionFailoverReady, Status: metav1.ConditionFalse,
		Reason: v1alpha1.ReasonFailoverReadyInvalidSpec, Message: "the spec is invalid: the group does not fail over until it is fixed", ObservedGeneration: g.Generation})
	if err := applyFailoverStatus(ctx, r.Client, g); err != nil {
		return fmt.Errorf("write InvalidSpec status: %w", err)
	}
	return nil
}

// markScheduleInvalid reports an invalid RestoreSchedule, which is not run.
func (r *LogShippingReconciler) markScheduleInvalid(ctx context.Context, rs *v1alpha1.RestoreSchedule, verr error) error {
	err := updateStatus(ctx, r.Client, rs.DeepCopy(), func(cur *v1alpha1.RestoreSchedule) {
		if setInvalid(&cur.Status.Conditions, cur.Generation, verr) {
			cur.Status.ObservedGeneration = cur.Generation
		}
	})
	if err != nil {
		return fmt.Errorf("write InvalidSpec status of restore schedule %s: %w", rs.Name, err)
	}
	return nil
}

// markBackupTargetInvalid reports an invalid BackupTarget; no group ships to it.
func (r *LogShippingReconciler) markBackupTargetInvalid(ctx context.Context, bt *v1alpha1.BackupTarget, verr error) error {
	err := updateStatus(ctx, r.Client, bt.DeepCopy(), func(cur *v1alpha1.BackupTarget) {
		if setInvalid(&cur.Status.Conditions, cur.Generation, verr) {
			cur.Status.ObservedGeneration = cur.Generation
		}
	})
	if err = client.IgnoreNotFound(err); err != nil {
		return fmt.Errorf("write InvalidSpec status of backup target %s: %w", bt.Name, err)
	}
	return nil
}

// scheduleProblem checks a RestoreSchedule against itself and against its group: the members and
// databases it names must be the group's.
func scheduleProblem(rs *v1alpha1.RestoreSchedule, g *v1alpha1.FailoverGroup) error {
	if err := rs.Validate(); err != nil {
		return err
	}
	for i, m := range rs.Spec.Members {
		if memberByName(g, m) == nil {
			return fmt.Errorf("spec.members[%d]: %q is not a member of FailoverGroup %s", i, m, g.Name)
		}
	}
	if g.Spec.SQLServer == nil {
		return nil
	}
	for i, d := range rs.Spec.Databases {
		found := false
		for _, gd := range g.Spec.SQLServer.Databases {
			found = found || gd == d
		}
		if !found {
			return fmt.Errorf("spec.databases[%d]: %q is not one of FailoverGroup %s's spec.sqlServer.databases", i, d, g.Name)
		}
	}
	return nil
}

// validate is the group's own validation plus the installation's member address allow list.
func (r *FailoverGroupReconciler) validate(g *v1alpha1.FailoverGroup) error {
	if err := g.Validate(); err != nil {
		return err
	}
	for i, m := range g.Spec.Members {
		if m.Address != nil && !r.Addresses.Allows(g.Namespace, m.Address.Host) {
			return fmt.Errorf("spec.members[%d].address.host: %q is not in this installation's allowed member addresses (operator flag --member-address-allow, chart value memberAddresses.allow)", i, m.Address.Host)
		}
	}
	return nil
}
