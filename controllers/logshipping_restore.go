package controllers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/notify"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// loadSchedules lists the group's RestoreSchedules; an invalid one is marked so and not run.
func (r *LogShippingReconciler) loadSchedules(ctx context.Context, c *shippingCycle) error {
	var list v1alpha1.RestoreScheduleList
	if err := r.List(ctx, &list, client.InNamespace(c.g.Namespace)); err != nil {
		return fmt.Errorf("list restore schedules: %w", err)
	}
	for i := range list.Items {
		rs := &list.Items[i]
		if rs.Spec.FailoverGroupRef.Name != c.g.Name {
			continue
		}
		if problem := scheduleProblem(rs, c.g); problem != nil {
			if err := r.markScheduleInvalid(ctx, rs, problem); err != nil {
				return err
			}
			continue
		}
		c.schedules = append(c.schedules, *rs)
	}
	return nil
}

// restoreStandbys runs every schedule; a standby that fails is a problem, not the cycle's end.
func (r *LogShippingReconciler) restoreStandbys(ctx context.Context, c *shippingCycle) error {
	if len(c.schedules) == 0 {
		c.problem("no RestoreSchedule refers to this group: standbys are not restored")
	}
	for i := range c.schedules {
		next, err := r.runSchedule(ctx, c, &c.schedules[i])
		if err != nil {
			c.problems = append(c.problems, err.Error())
		}
		if next > 0 && next < c.next {
			c.next = next
		}
	}
	return nil
}

// runSchedule restores the standbys a schedule selects when its interval has passed (the first run
// comes offset after the first backups), and returns how long until its next run.
func (r *LogShippingReconciler) runSchedule(ctx context.Context, c *shippingCycle, rs *v1alpha1.RestoreSchedule) (time.Duration, error) {
	interval, offset := rs.Spec.Interval.Duration, rs.Spec.Offset.Duration
	settings := scheduleSettings(rs, c.shipper.Target.Checksum)
	dbs := c.view.dbs
	if len(rs.Spec.Databases) > 0 {
		dbs = databaseNames(rs.Spec.Databases)
	}
	next := interval
	var errs []error
	ran := map[string]v1alpha1.RestoreMemberStatus{}
	for _, m := range c.g.Spec.Members {
		if !scheduleRestores(c, rs, m.Name) {
			continue
		}
		// When this schedule last restored this member; the first run comes offset after now.
		run := rs.Name + "/" + m.Name
		last := r.SQL.reg.LastRestore(groupKey(c.g), run, c.now.Add(offset-interval))
		if wait := last.Add(interval).Sub(c.now); wait > 0 {
			next = min(next, wait)
			continue
		}
		ms, err := r.restoreMember(ctx, c, rs, m.Name, dbs, settings)
		if ms != nil {
			r.SQL.reg.Restored(groupKey(c.g), run, c.now)
			ran[m.Name] = *ms
		}
		errs = append(errs, err)
	}
	runErr := errors.Join(errs...)
	if err := r.writeScheduleStatus(ctx, rs, ran, c.now, runErr); err != nil {
		return next, err
	}
	return next, runErr
}

// scheduleRestores says whether rs restores member in this cycle: a standby it selects, not the
// primary, not a member on its way back from an unplanned failover (rejoinFenced restores those).
func scheduleRestores(c *shippingCycle, rs *v1alpha1.RestoreSchedule, member string) bool {
	if member == c.holder || (len(rs.Spec.Members) > 0 && !contains(rs.Spec.Members, member)) {
		return false
	}
	st := rejoinState(c.g, member)
	return st == failover.RejoinNotFenced || st == failover.RejoinDone
}

// restoreMember copies the logins to one standby and restores its databases; nil status when the
// standby could not be reached (nothing ran).
func (r *LogShippingReconciler) restoreMember(ctx context.Context, c *shippingCycle, rs *v1alpha1.RestoreSchedule, member string,
	dbs []string, settings logshipping.RestoreSettings) (*v1alpha1.RestoreMemberStatus, error) {
	standby, err := c.view.client(member)
	if err != nil {
		return nil, fmt.Errorf("standby %s: %w", member, err)
	}
	var errs []error
	// Logins first, so users are not orphaned when this standby is promoted.
	if _, err := logshipping.CopyLogins(ctx, c.primary, standby); err != nil {
		errs = append(errs, fmt.Errorf("copy logins to %s: %w", member, err))
	}
	results, err := logshipping.RestoreStandby(ctx, standby, subset(c.files, dbs), dbs, settings, c.now)
	c.restores[member] = results
	if err != nil {
		errs = append(errs, fmt.Errorf("restore on %s: %w", member, err))
	}
	ms := &v1alpha1.RestoreMemberStatus{Name: member}
	for _, res := range results {
		if res.NeedsFullBackup {
			r.logChainBroken(ctx, c.g, rs, c.holder, member, res)
		}
		if res.Reseeded {
			r.event(c.g, corev1.EventTypeNormal, v1alpha1.EventReasonReseeded, "Restore", "database %s on %s reseeded from a full backup", res.Database, member)
		}
		ms.Databases = append(ms.Databases, restoreStatusOf(res))
	}
	return ms, errors.Join(errs...)
}

// scheduleSettings are how rs restores: NoRecovery or Standby, its delay, whether users are
// disconnected (default yes), and checksums when the target writes them.
func scheduleSettings(rs *v1alpha1.RestoreSchedule, checksum bool) logshipping.RestoreSettings {
	settings := logshipping.RestoreSettings{Mode: sqlserver.RestoreNoRecovery, Delay: rs.Spec.Delay.Duration,
		DisconnectUsers: rs.Spec.DisconnectUsers == nil || *rs.Spec.DisconnectUsers, Checksum: checksum}
	if rs.Spec.Mode == v1alpha1.RestoreStandby {
		settings.Mode = sqlserver.RestoreStandby
	}
	return settings
}

// restoreSettingsFor are the settings of the first schedule that selects member, without its delay
// (NoRecovery when none does): a reseed restores everything at once.
func restoreSettingsFor(schedules []v1alpha1.RestoreSchedule, member string, checksum bool) logshipping.RestoreSettings {
	for i := range schedules {
		rs := &schedules[i]
		if len(rs.Spec.Members) > 0 && !contains(rs.Spec.Members, member) {
			continue
		}
		settings := scheduleSettings(rs, checksum)
		settings.Delay = 0
		return settings
	}
	return logshipping.RestoreSettings{Mode: sqlserver.RestoreNoRecovery, DisconnectUsers: true, Checksum: checksum}
}

func restoreStatusOf(res logshipping.DatabaseRestoreResult) v1alpha1.RestoreDatabaseStatus {
	st := v1alpha1.RestoreDatabaseStatus{Name: res.Database, LastRestoredFile: res.LastRestoredFile,
		LagSeconds: int64(res.Lag / time.Second), NeedsFullBackup: res.NeedsFullBackup, Message: res.Message, Reason: res.Reason}
	if !res.RedoLSN.IsZero() {
		st.LastRestoredLSN = res.RedoLSN.String()
	}
	if !res.LastRestoreTime.IsZero() {
		t := metav1.NewTime(res.LastRestoreTime)
		st.LastRestoreTime = &t
	}
	if res.Err != nil && st.Message == "" {
		st.Message = res.Err.Error()
	}
	return st
}

func subset(files logshipping.Files, dbs []string) logshipping.Files {
	out := logshipping.Files{}
	for _, d := range dbs {
		out[d] = files[d]
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// writeScheduleStatus records the members restored in this cycle (others keep their last entry).
func (r *LogShippingReconciler) writeScheduleStatus(ctx context.Context, rs *v1alpha1.RestoreSchedule,
	ran map[string]v1alpha1.RestoreMemberStatus, now time.Time, runErr error) error {
	if len(ran) == 0 && runErr == nil {
		return nil
	}
	return updateStatus(ctx, r.Client, rs, func(cur *v1alpha1.RestoreSchedule) {
		for _, ms := range ran {
			setRestoreMember(&cur.Status, ms)
		}
		t := metav1.NewTime(now)
		cur.Status.LastRunTime = &t
		cur.Status.ObservedGeneration = cur.Generation
		meta.SetStatusCondition(&cur.Status.Conditions, scheduleCondition(cur, runErr))
	})
}

// setRestoreMember replaces ms's entry or adds it, keeping the list ordered by name.
func setRestoreMember(st *v1alpha1.RestoreScheduleStatus, ms v1alpha1.RestoreMemberStatus) {
	replaced := false
	for i := range st.Members {
		if st.Members[i].Name == ms.Name {
			st.Members[i], replaced = ms, true
		}
	}
	if !replaced {
		st.Members = append(st.Members, ms)
	}
	sort.Slice(st.Members, func(i, j int) bool { return st.Members[i].Name < st.Members[j].Name })
}

// scheduleCondition is the schedule's Ready condition: a named restore problem first, then a
// failed run, then a broken log chain.
func scheduleCondition(rs *v1alpha1.RestoreSchedule, runErr error) metav1.Condition {
	cond := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonRestoreScheduleRestored,
		Message: "the selected standbys restored the shipped log backups", ObservedGeneration: rs.Generation}
	if reason, msg := restoreProblem(rs.Status.Members); reason != "" {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, reason, msg
	} else if runErr != nil {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, v1alpha1.ReasonRestoreScheduleRestoreFailed, runErr.Error()
	} else if broken := brokenChains(rs.Status.Members); broken != "" {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, v1alpha1.ReasonRestoreScheduleLogChainBroken, broken
	}
	return cond
}

// restoreProblem is the first database whose last restore failed for a named reason (a forked or
// foreign standby database, a backup without checksums): the schedule's Ready condition carries
// that reason, so `kubectl get rsched` and alerts tell it from a transient failure.
func restoreProblem(members []v1alpha1.RestoreMemberStatus) (reason, message string) {
	for _, m := range members {
		for _, d := range m.Databases {
			if d.Reason != "" {
				return d.Reason, fmt.Sprintf("%s on %s: %s", d.Name, m.Name, d.Message)
			}
		}
	}
	return "", ""
}

// logChainBroken reports a standby database whose log chain broke: an Event at every run until it
// is reseeded, a LogChainBroken notification once per break (when the schedule's status did not say
// so yet).
func (r *LogShippingReconciler) logChainBroken(ctx context.Context, g *v1alpha1.FailoverGroup, rs *v1alpha1.RestoreSchedule,
	holder, member string, res logshipping.DatabaseRestoreResult) {
	r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonLogChainBroken, "Restore",
		"log chain of %s on %s is broken (%s): a new full backup is taken and the database reseeded", res.Database, member, res.Message)
	if !needsFullBackup(rs, member, res.Database) {
		r.notify(ctx, g, notify.Event{Event: notify.EventLogChainBroken, From: holder, To: member,
			Reason: fmt.Sprintf("database %s: %s", res.Database, res.Message)})
	}
}

// needsFullBackup says whether the schedule's status already records that database db on member
// needs a full backup (its log chain broke in an earlier run).
func needsFullBackup(rs *v1alpha1.RestoreSchedule, member, db string) bool {
	for _, m := range rs.Status.Members {
		if m.Name != member {
			continue
		}
		for _, d := range m.Databases {
			if d.Name == db {
				return d.NeedsFullBackup
			}
		}
	}
	return false
}

func brokenChains(members []v1alpha1.RestoreMemberStatus) string {
	var out []string
	for _, m := range members {
		for _, d := range m.Databases {
			if d.NeedsFullBackup {
				out = append(out, fmt.Sprintf("%s on %s needs a full backup (reseed under way)", d.Name, m.Name))
			}
		}
	}
	return strings.Join(out, "; ")
}
