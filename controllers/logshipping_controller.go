package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/lease"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/notify"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// LogShippingReconciler ships transaction-log backups for SQL Server groups with
// spec.logShipping: backups on the member that holds the Lease, restores on the standbys that a
// RestoreSchedule selects, and status on the group, the BackupTarget and the RestoreSchedule.
type LogShippingReconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Clock    clock.PassiveClock
	Recorder recorder.EventRecorder
	// Notifier sends the groups' webhook notifications (LogChainBroken); nil: none are sent.
	Notifier *notify.Dispatcher
	// APIReader reads the webhooks' Secrets without caching every Secret of the cluster.
	APIReader client.Reader
	SQL       *sqlGroups
	Leases    *lease.Store
	// OperatorImage runs the prune Jobs (`understudy prune`); empty: no Jobs.
	OperatorImage string
}

// Reconcile runs one log-shipping cycle for a group and says when the next is due.
func (r *LogShippingReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var g v1alpha1.FailoverGroup
	if err := r.Get(ctx, req.NamespacedName, &g); err != nil {
		if apierrors.IsNotFound(err) {
			r.SQL.Forget(req.NamespacedName) // the group is gone: its pools, Shipper and restore times too
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if g.Spec.LogShipping == nil || g.Spec.SQLServer == nil || !g.DeletionTimestamp.IsZero() || g.Validate() != nil {
		return ctrl.Result{}, nil // an invalid group is reported by the FailoverGroup controller
	}
	interval := g.Spec.LogShipping.LogBackupInterval.Duration
	unlock := r.SQL.lock(&g)
	defer unlock()
	if g.Status.InProgress != nil {
		return ctrl.Result{RequeueAfter: time.Second}, nil // a failover owns the databases now
	}
	l, err := r.Leases.Get(ctx, &g)
	if err != nil {
		return ctrl.Result{}, err
	}
	holder := lease.Holder(l)
	if !slices.ContainsFunc(g.Spec.Members, func(m v1alpha1.Member) bool { return m.Name == holder }) {
		return ctrl.Result{RequeueAfter: interval}, nil
	}
	cyc, err := r.cycle(ctx, &g, holder)
	if werr := r.writeGroupStatus(ctx, &g, cyc, err); werr != nil {
		return ctrl.Result{}, werr
	}
	if err != nil {
		return ctrl.Result{RequeueAfter: min(interval, 30*time.Second)}, nil
	}
	return ctrl.Result{RequeueAfter: cyc.next}, nil
}

// cycleResult is what one cycle did and saw.
type cycleResult struct {
	now      time.Time
	backups  []logshipping.BackupResult
	files    logshipping.Files
	restores map[string][]logshipping.DatabaseRestoreResult // by member
	salvaged map[string]map[string]string                   // member -> database -> salvage file
	next     time.Duration
	problems []string
}

func (r *LogShippingReconciler) cycle(ctx context.Context, g *v1alpha1.FailoverGroup, holder string) (*cycleResult, error) {
	now := r.Clock.Now()
	cyc := &cycleResult{now: now, restores: map[string][]logshipping.DatabaseRestoreResult{}, salvaged: map[string]map[string]string{},
		next: g.Spec.LogShipping.LogBackupInterval.Duration}
	pods, err := listMemberPods(ctx, r.Client, g)
	if err != nil {
		return cyc, err
	}
	v, err := r.SQL.view(ctx, g, pods)
	if err != nil {
		return cyc, err
	}
	sh, bt, err := v.shipper(ctx)
	if err != nil {
		if bt != nil {
			if verr := bt.Validate(); verr != nil {
				if werr := r.markBackupTargetInvalid(ctx, bt, verr); werr != nil {
					return cyc, werr
				}
			}
		}
		return cyc, err
	}
	primary, err := v.client(holder)
	if err != nil {
		return cyc, fmt.Errorf("primary %s: %w", holder, err)
	}
	ready, err := sh.EnsureReady(ctx, primary, v.dbs)
	for _, rr := range ready {
		if rr.SwitchedFrom != "" {
			r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonRecoveryModelChanged, "LogShipping",
				"database %s on %s was in %s recovery: switched to FULL so its log can be shipped", rr.Database, holder, rr.SwitchedFrom)
		}
	}
	if err != nil {
		return cyc, fmt.Errorf("primary %s is not ready for log shipping: %w", holder, err)
	}

	schedules, err := r.schedulesOf(ctx, g)
	if err != nil {
		return cyc, err
	}
	forceFull := map[string]bool{}
	for _, rs := range schedules {
		for _, m := range rs.Status.Members {
			for _, d := range m.Databases {
				if d.NeedsFullBackup {
					forceFull[d.Name] = true
				}
			}
		}
	}
	cyc.backups, err = sh.RunBackups(ctx, primary, v.dbs, now, forceFull)
	for _, b := range cyc.backups {
		if b.Err != nil {
			r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonBackupFailed, "Backup", "%s backup of %s on %s failed: %v", b.Type, b.Database, holder, b.Err)
		}
	}
	if err != nil {
		cyc.problems = append(cyc.problems, fmt.Sprintf("backups on %s: %v", holder, err))
	}
	cyc.files, _, err = sh.Catalogue.ListAll(ctx, primary, sh.Target, v.dbs)
	if err != nil {
		return cyc, fmt.Errorf("list backups: %w", err)
	}
	if err := r.writeBackupTargetStatus(ctx, bt, g, cyc.files); err != nil {
		return cyc, err
	}

	r.rejoinFenced(ctx, g, v, sh, holder, schedules, cyc)
	for i := range schedules {
		next, err := r.runSchedule(ctx, g, v, holder, primary, &schedules[i], cyc)
		if err != nil {
			cyc.problems = append(cyc.problems, err.Error())
		}
		if next > 0 && next < cyc.next {
			cyc.next = next
		}
	}
	if len(schedules) == 0 {
		cyc.problems = append(cyc.problems, "no RestoreSchedule refers to this group: standbys are not restored")
	}
	r.prune(ctx, g, sh, bt, holder, v.dbs, cyc)
	key := g.Namespace + "/" + g.Name
	for _, db := range v.dbs {
		if newest, ok := cyc.files.Newest(db); ok && !newest.FinishedAt.IsZero() {
			backupAge.WithLabelValues(key, db).Set(now.Sub(newest.FinishedAt).Seconds())
		}
	}
	for member, results := range cyc.restores {
		for _, res := range results {
			restoreLag.WithLabelValues(key, member, res.Database).Set(res.Lag.Seconds())
		}
	}
	if cyc.next < time.Second {
		cyc.next = time.Second
	}
	return cyc, nil
}

// schedulesOf lists the RestoreSchedules of a group.
func (r *LogShippingReconciler) schedulesOf(ctx context.Context, g *v1alpha1.FailoverGroup) ([]v1alpha1.RestoreSchedule, error) {
	var list v1alpha1.RestoreScheduleList
	if err := r.List(ctx, &list, client.InNamespace(g.Namespace)); err != nil {
		return nil, fmt.Errorf("list restore schedules: %w", err)
	}
	var out []v1alpha1.RestoreSchedule
	for i := range list.Items {
		rs := &list.Items[i]
		if rs.Spec.FailoverGroupRef.Name != g.Name {
			continue
		}
		if problem := scheduleProblem(rs, g); problem != nil {
			if err := r.markScheduleInvalid(ctx, rs, problem); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, *rs)
	}
	return out, nil
}

// runSchedule restores the standbys a schedule selects when its interval has passed (the first run
// comes offset after the first backups), and returns how long until its next run.
func (r *LogShippingReconciler) runSchedule(ctx context.Context, g *v1alpha1.FailoverGroup, v *sqlGroupView, holder string,
	primary *sqlserver.Client, rs *v1alpha1.RestoreSchedule, cyc *cycleResult) (time.Duration, error) {
	interval, offset := rs.Spec.Interval.Duration, rs.Spec.Offset.Duration
	settings := logshipping.RestoreSettings{Mode: sqlserver.RestoreNoRecovery, Delay: rs.Spec.Delay.Duration,
		DisconnectUsers: rs.Spec.DisconnectUsers == nil || *rs.Spec.DisconnectUsers, Checksum: v.shipperChecksum(ctx)}
	if rs.Spec.Mode == v1alpha1.RestoreStandby {
		settings.Mode = sqlserver.RestoreStandby
	}
	dbs := v.dbs
	if len(rs.Spec.Databases) > 0 {
		dbs = databaseNames(rs.Spec.Databases)
	}
	next := interval
	var errs []error
	statusByMember := map[string]v1alpha1.RestoreMemberStatus{}
	for _, m := range g.Spec.Members {
		if m.Name == holder || (len(rs.Spec.Members) > 0 && !contains(rs.Spec.Members, m.Name)) || awaitingRejoin(g, m.Name) {
			continue
		}
		// When this schedule last restored this member; the first run comes offset after now.
		run := rs.Name + "/" + m.Name
		last := r.SQL.reg.LastRestore(groupKey(g), run, cyc.now.Add(offset-interval))
		if wait := last.Add(interval).Sub(cyc.now); wait > 0 {
			next = min(next, wait)
			continue
		}
		standby, err := v.client(m.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("standby %s: %w", m.Name, err))
			continue
		}
		// Logins first, so users are not orphaned when this standby is promoted.
		if _, err := logshipping.CopyLogins(ctx, primary, standby); err != nil {
			errs = append(errs, fmt.Errorf("copy logins to %s: %w", m.Name, err))
		}
		results, err := logshipping.RestoreStandby(ctx, standby, subset(cyc.files, dbs), dbs, settings, cyc.now)
		r.SQL.reg.Restored(groupKey(g), run, cyc.now)
		cyc.restores[m.Name] = results
		if err != nil {
			errs = append(errs, fmt.Errorf("restore on %s: %w", m.Name, err))
		}
		ms := v1alpha1.RestoreMemberStatus{Name: m.Name}
		for _, res := range results {
			if res.NeedsFullBackup {
				r.logChainBroken(ctx, g, rs, holder, m.Name, res)
			}
			if res.Reseeded {
				r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonReseeded, "Restore", "database %s on %s reseeded from a full backup", res.Database, m.Name)
			}
			ms.Databases = append(ms.Databases, restoreStatusOf(res))
		}
		statusByMember[m.Name] = ms
	}
	if err := r.writeScheduleStatus(ctx, rs, statusByMember, cyc.now, errors.Join(errs...)); err != nil {
		return next, err
	}
	return next, errors.Join(errs...)
}

// rejoinFenced turns an old primary that came back after an unplanned failover into a standby:
// first a salvage log backup of what it wrote after its last shipped backup (it stops accepting
// writes), then a reseed from the new primary's full backup taken after the failover.
func (r *LogShippingReconciler) rejoinFenced(ctx context.Context, g *v1alpha1.FailoverGroup, v *sqlGroupView, sh *logshipping.Shipper,
	holder string, schedules []v1alpha1.RestoreSchedule, cyc *cycleResult) {
	for _, ms := range g.Status.Members {
		if ms.Name == holder || ms.Role != v1alpha1.RoleFenced || !ms.Healthy {
			continue
		}
		old, err := v.client(ms.Name)
		if err != nil {
			cyc.problems = append(cyc.problems, fmt.Sprintf("rejoin %s: %v", ms.Name, err))
			continue
		}
		salvaged, err := sh.Salvage(ctx, old, v.dbs, cyc.now)
		for _, s := range salvaged {
			if s.File.Path == "" {
				continue
			}
			if cyc.salvaged[ms.Name] == nil {
				cyc.salvaged[ms.Name] = map[string]string{}
			}
			cyc.salvaged[ms.Name][s.Database] = s.File.Path
			r.event(g, corev1.EventTypeWarning, v1alpha1.EventReasonSalvaged, "Salvage",
				"%s came back after the failover with writes that were never shipped: saved to %s (restore it elsewhere to recover them)", ms.Name, s.File.Path)
		}
		if err != nil {
			cyc.problems = append(cyc.problems, fmt.Sprintf("salvage %s: %v", ms.Name, err))
			continue
		}
		var notBefore time.Time
		if lf := g.Status.LastFailover; lf != nil {
			notBefore = lf.StartedAt.Time
		}
		results, err := logshipping.Reseed(ctx, old, cyc.files, v.dbs, restoreSettingsFor(schedules, ms.Name, sh), notBefore, cyc.now)
		cyc.restores[ms.Name] = results
		if err != nil {
			cyc.problems = append(cyc.problems, fmt.Sprintf("reseed %s: %v", ms.Name, err))
			continue
		}
		r.event(g, corev1.EventTypeNormal, v1alpha1.EventReasonRejoined, "Reseed", "%s was reseeded from %s's backups and continues as a standby", ms.Name, holder)
	}
}

// restoreSettingsFor are the settings of the first schedule that selects member (NoRecovery when none).
func restoreSettingsFor(schedules []v1alpha1.RestoreSchedule, member string, sh *logshipping.Shipper) logshipping.RestoreSettings {
	settings := logshipping.RestoreSettings{Mode: sqlserver.RestoreNoRecovery, DisconnectUsers: true, Checksum: sh.Target.Checksum}
	for _, rs := range schedules {
		if len(rs.Spec.Members) > 0 && !contains(rs.Spec.Members, member) {
			continue
		}
		if rs.Spec.Mode == v1alpha1.RestoreStandby {
			settings.Mode = sqlserver.RestoreStandby
		}
		settings.DisconnectUsers = rs.Spec.DisconnectUsers == nil || *rs.Spec.DisconnectUsers
		break
	}
	return settings
}

func (v *sqlGroupView) shipperChecksum(ctx context.Context) bool {
	sh, _, err := v.shipper(ctx)
	return err == nil && sh != nil && sh.Target.Checksum
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
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		var cur v1alpha1.RestoreSchedule
		if err := r.Get(ctx, client.ObjectKeyFromObject(rs), &cur); err != nil {
			return err
		}
		for name, ms := range ran {
			replaced := false
			for i := range cur.Status.Members {
				if cur.Status.Members[i].Name == name {
					cur.Status.Members[i], replaced = ms, true
				}
			}
			if !replaced {
				cur.Status.Members = append(cur.Status.Members, ms)
			}
		}
		sort.Slice(cur.Status.Members, func(i, j int) bool { return cur.Status.Members[i].Name < cur.Status.Members[j].Name })
		t := metav1.NewTime(now)
		cur.Status.LastRunTime = &t
		cur.Status.ObservedGeneration = cur.Generation
		cond := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonRestoreScheduleRestored,
			Message: "the selected standbys restored the shipped log backups", ObservedGeneration: cur.Generation}
		if reason, msg := restoreProblem(cur.Status.Members); reason != "" {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, reason, msg
		} else if runErr != nil {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, v1alpha1.ReasonRestoreScheduleRestoreFailed, runErr.Error()
		} else if broken := brokenChains(cur.Status.Members); broken != "" {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, v1alpha1.ReasonRestoreScheduleLogChainBroken, broken
		}
		meta.SetStatusCondition(&cur.Status.Conditions, cond)
		*rs = cur
		return r.Status().Update(ctx, &cur)
	})
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

// writeBackupTargetStatus records the newest full and log backup of each database of the group.
func (r *LogShippingReconciler) writeBackupTargetStatus(ctx context.Context, bt *v1alpha1.BackupTarget, g *v1alpha1.FailoverGroup, files logshipping.Files) error {
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		var cur v1alpha1.BackupTarget
		if err := r.Get(ctx, client.ObjectKeyFromObject(bt), &cur); err != nil {
			return err
		}
		before := cur.Status.DeepCopy()
		for db, list := range files {
			entry := v1alpha1.DatabaseBackups{Group: g.Name, Database: db}
			for _, f := range list {
				bf := &v1alpha1.BackupFile{File: f.Path, FirstLSN: f.FirstLSN.String(), LastLSN: f.LastLSN.String()}
				if !f.FinishedAt.IsZero() {
					t := metav1.NewTime(f.FinishedAt)
					bf.FinishedAt = &t
				}
				switch f.Type {
				case sqlserver.BackupFull:
					entry.LastFull = bf
				case sqlserver.BackupLog:
					entry.LastLog = bf
				}
			}
			replaced := false
			for i := range cur.Status.Backups {
				if cur.Status.Backups[i].Group == g.Name && cur.Status.Backups[i].Database == db {
					cur.Status.Backups[i], replaced = entry, true
				}
			}
			if !replaced {
				cur.Status.Backups = append(cur.Status.Backups, entry)
			}
		}
		cur.Status.ObservedGeneration = cur.Generation
		meta.SetStatusCondition(&cur.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonBackupTargetWritable, Message: "backups are written and read", ObservedGeneration: cur.Generation})
		if equalJSON(before, &cur.Status) {
			return nil
		}
		return r.Status().Update(ctx, &cur)
	})
}

// writeGroupStatus puts the standbys' restore positions, the LAG column and the LogShipping
// condition on the group.
func (r *LogShippingReconciler) writeGroupStatus(ctx context.Context, g *v1alpha1.FailoverGroup, cyc *cycleResult, cycleErr error) error {
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		var cur v1alpha1.FailoverGroup
		if err := r.Get(ctx, client.ObjectKeyFromObject(g), &cur); err != nil {
			return err
		}
		before := cur.Status.DeepCopy()
		var maxLag time.Duration
		for i := range cur.Status.Members {
			if cur.Status.Members[i].Name == cur.Status.ActiveMember {
				// The primary has no restore position: keep only what it still owns (a salvage file).
				var dbs []v1alpha1.DatabasePosition
				for _, d := range cur.Status.Members[i].Databases {
					dbs = append(dbs, v1alpha1.DatabasePosition{Name: d.Name, State: sqlserver.StateOnline, SalvageFile: d.SalvageFile})
				}
				cur.Status.Members[i].Databases = dbs
				continue
			}
			results, ok := cyc.restores[cur.Status.Members[i].Name]
			if !ok {
				continue
			}
			name := cur.Status.Members[i].Name
			prevSalvage := map[string]string{}
			for _, d := range cur.Status.Members[i].Databases {
				prevSalvage[d.Name] = d.SalvageFile
			}
			var dbs []v1alpha1.DatabasePosition
			for _, res := range results {
				pos := v1alpha1.DatabasePosition{Name: res.Database, State: res.State, LastRestoredFile: res.LastRestoredFile,
					LagSeconds: int64(res.Lag / time.Second), SalvageFile: prevSalvage[res.Database]}
				if f := cyc.salvaged[name][res.Database]; f != "" {
					pos.SalvageFile = f
				}
				if !res.RedoLSN.IsZero() {
					pos.LSN = res.RedoLSN.String()
				}
				if !res.LastRestoreTime.IsZero() {
					t := metav1.NewTime(res.LastRestoreTime)
					pos.LastRestoreTime = &t
				}
				dbs = append(dbs, pos)
			}
			cur.Status.Members[i].Databases = dbs
		}
		for _, m := range cur.Status.Members {
			if m.Role == v1alpha1.RoleActive {
				continue
			}
			for _, d := range m.Databases {
				maxLag = max(maxLag, time.Duration(d.LagSeconds)*time.Second)
			}
		}
		cur.Status.Lag = maxLag.String()
		cond := metav1.Condition{Type: v1alpha1.ConditionLogShipping, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonLogShippingShipping,
			Message:            fmt.Sprintf("log backups every %s; largest restore lag %s", cur.Spec.LogShipping.LogBackupInterval.Duration, maxLag),
			ObservedGeneration: cur.Generation}
		switch {
		case cycleErr != nil:
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, v1alpha1.ReasonLogShippingFailed, cycleErr.Error()
		case len(cyc.problems) > 0:
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, v1alpha1.ReasonLogShippingDegraded, strings.Join(cyc.problems, "; ")
		}
		meta.SetStatusCondition(&cur.Status.Conditions, cond)
		if equalJSON(before, &cur.Status) {
			return nil
		}
		return r.Status().Update(ctx, &cur)
	})
}

func (r *LogShippingReconciler) event(g *v1alpha1.FailoverGroup, eventType, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(g, nil, eventType, reason, action, note, args...)
	}
}

// SetupWithManager registers the reconciler: SQL Server groups, and their RestoreSchedules and
// BackupTargets.
func (r *LogShippingReconciler) SetupWithManager(mgr ctrl.Manager, name string) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		For(&v1alpha1.FailoverGroup{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.RestoreSchedule{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			rs := o.(*v1alpha1.RestoreSchedule)
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: rs.Namespace, Name: rs.Spec.FailoverGroupRef.Name}}}
		})).
		Complete(r)
}
