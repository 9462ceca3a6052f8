package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// preparePrimary puts the primary's databases in FULL recovery (an Event for each it switched), so
// their log can be backed up.
func (r *LogShippingReconciler) preparePrimary(ctx context.Context, c *shippingCycle) error {
	ready, err := c.shipper.EnsureReady(ctx, c.primary, c.view.dbs)
	c.settings = map[string]logshipping.DatabaseSettings{}
	for _, rr := range ready {
		c.settings[rr.Database] = rr.Settings
		if rr.SwitchedFrom != "" {
			r.event(c.g, corev1.EventTypeWarning, v1alpha1.EventReasonRecoveryModelChanged, "LogShipping",
				"database %s on %s was in %s recovery: switched to FULL so its log can be shipped", rr.Database, c.holder, rr.SwitchedFrom)
		}
	}
	if err != nil {
		return fmt.Errorf("primary %s is not ready for log shipping: %w", c.holder, err)
	}
	return nil
}

// backUp takes the backups that are due on the primary (a full one for a database whose standby's
// log chain broke), then lists what the target holds and records the newest on the BackupTarget.
// A failed backup is a problem (its Event says which); a target that cannot be listed fails the
// cycle, since nothing after it can be planned.
func (r *LogShippingReconciler) backUp(ctx context.Context, c *shippingCycle) error {
	var err error
	c.backups, err = c.shipper.RunBackups(ctx, c.primary, c.view.dbs, c.now, needFullBackup(c.schedules))
	for _, b := range c.backups {
		if b.Err != nil {
			r.event(c.g, corev1.EventTypeWarning, v1alpha1.EventReasonBackupFailed, "Backup", "%s backup of %s on %s failed: %v", b.Type, b.Database, c.holder, b.Err)
		}
	}
	if err != nil {
		c.problem("backups on %s: %v", c.holder, err)
	}
	if comp, err := c.shipper.CompressionOn(ctx, c.primary); err != nil {
		c.problem("backups on %s: %v", c.holder, err)
	} else {
		c.compression = &comp
	}
	if logs, err := c.shipper.InspectLogs(ctx, c.primary, c.view.dbs, c.now); err != nil {
		c.problem("logs on %s: %v", c.holder, err)
	} else {
		c.foreign, c.logGrowth = logs.Foreign, logs.Growing
	}
	if c.files, _, err = c.shipper.Catalogue.ListAll(ctx, c.primary, c.shipper.Target, c.view.dbs); err != nil {
		return fmt.Errorf("list backups: %w", err)
	}
	return r.writeBackupTargetStatus(ctx, c.target, c.g, c.files)
}

// needFullBackup is the databases some schedule's standby needs a full backup of.
func needFullBackup(schedules []v1alpha1.RestoreSchedule) map[string]bool {
	out := map[string]bool{}
	for _, rs := range schedules {
		for _, m := range rs.Status.Members {
			for _, d := range m.Databases {
				if d.NeedsFullBackup {
					out[d.Name] = true
				}
			}
		}
	}
	return out
}

// writeBackupTargetStatus records the newest full and log backup of each database of the group.
func (r *LogShippingReconciler) writeBackupTargetStatus(ctx context.Context, bt *v1alpha1.BackupTarget, g *v1alpha1.FailoverGroup, files logshipping.Files) error {
	return updateStatus(ctx, r.Client, bt.DeepCopy(), func(cur *v1alpha1.BackupTarget) {
		for db, list := range files {
			setDatabaseBackups(&cur.Status, newestBackups(g.Name, db, list))
		}
		cur.Status.ObservedGeneration = cur.Generation
		meta.SetStatusCondition(&cur.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonBackupTargetWritable, Message: "backups are written and read", ObservedGeneration: cur.Generation})
	})
}

// newestBackups is the newest full and log backup among list (ordered oldest first).
func newestBackups(group, db string, list []sqlserver.BackupFile) v1alpha1.DatabaseBackups {
	entry := v1alpha1.DatabaseBackups{Group: group, Database: db}
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
	return entry
}

// setDatabaseBackups replaces the entry of entry's group and database, or adds it.
func setDatabaseBackups(st *v1alpha1.BackupTargetStatus, entry v1alpha1.DatabaseBackups) {
	for i := range st.Backups {
		if st.Backups[i].Group == entry.Group && st.Backups[i].Database == entry.Database {
			st.Backups[i] = entry
			return
		}
	}
	st.Backups = append(st.Backups, entry)
}

// compressionCondition says whether the primary's backups are compressed as the BackupTarget asks.
func compressionCondition(g *v1alpha1.FailoverGroup, target, primary string, comp logshipping.Compression) metav1.Condition {
	cond := metav1.Condition{Type: v1alpha1.ConditionBackupCompression, Status: metav1.ConditionTrue, ObservedGeneration: g.Generation}
	switch {
	case !comp.Requested:
		cond.Reason = v1alpha1.ReasonBackupCompressionNotRequested
		cond.Message = fmt.Sprintf("BackupTarget %s has compression: false", target)
	case comp.Applied():
		cond.Reason = v1alpha1.ReasonBackupCompressionCompressed
		cond.Message = fmt.Sprintf("backups on %s (%s) are taken WITH COMPRESSION", primary, comp.Server.Edition)
	default:
		cond.Status, cond.Reason = metav1.ConditionFalse, v1alpha1.ReasonBackupCompressionEditionCannotCompress
		cond.Message = fmt.Sprintf("%s runs %s, which cannot compress backups: they are taken without COMPRESSION "+
			"(BackupTarget %s spec.compression: false says so and clears this)", primary, comp.Server.Edition, target)
	}
	return cond
}

// maxForeignListed bounds the files a ForeignLogBackups message names.
const maxForeignListed = 3

// foreignLogBackupsCondition names the log backups other tools took on the primary outside the
// BackupTarget.
func foreignLogBackupsCondition(g *v1alpha1.FailoverGroup, target, primary string, foreign map[string][]sqlserver.BackupRecord) metav1.Condition {
	cond := metav1.Condition{Type: v1alpha1.ConditionForeignLogBackups, Status: metav1.ConditionFalse,
		Reason: v1alpha1.ReasonForeignLogBackupsNone, ObservedGeneration: g.Generation,
		Message: fmt.Sprintf("every log backup on %s since the newest full backup is in BackupTarget %s", primary, target)}
	dbs := slices.Sorted(maps.Keys(foreign))
	if len(dbs) == 0 {
		return cond
	}
	var parts []string
	for _, db := range dbs {
		list := foreign[db]
		var files []string
		for _, r := range list[:min(len(list), maxForeignListed)] {
			files = append(files, fmt.Sprintf("%s (%s)", r.Path, r.FinishedAt.UTC().Format(time.RFC3339)))
		}
		if len(list) > maxForeignListed {
			files = append(files, fmt.Sprintf("and %d more", len(list)-maxForeignListed))
		}
		parts = append(parts, fmt.Sprintf("%s: %s", db, strings.Join(files, ", ")))
	}
	cond.Status, cond.Reason = metav1.ConditionTrue, v1alpha1.ReasonForeignLogBackupsFound
	cond.Message = fmt.Sprintf("log backups on %s written outside BackupTarget %s, not WITH COPY_ONLY, break the standbys' chain "+
		"(a full backup and a reseed follow each): %s. Stop the other backup job or make it use COPY_ONLY",
		primary, target, strings.Join(parts, "; "))
	return cond
}

// logGrowthCondition names the databases whose log on the primary has waited too long for a log
// backup.
func logGrowthCondition(g *v1alpha1.FailoverGroup, primary string, growth []logshipping.LogGrowth) metav1.Condition {
	interval := g.Spec.LogShipping.LogBackupInterval.Duration
	cond := metav1.Condition{Type: v1alpha1.ConditionTransactionLogGrowing, Status: metav1.ConditionFalse,
		Reason: v1alpha1.ReasonTransactionLogTruncated, ObservedGeneration: g.Generation,
		Message: fmt.Sprintf("the logs on %s were backed up within 2 x logBackupInterval (%s)", primary, 2*interval)}
	if len(growth) == 0 {
		return cond
	}
	var parts []string
	for _, lg := range growth {
		parts = append(parts, fmt.Sprintf("%s since %s", lg.Database, lg.Since.UTC().Format(time.RFC3339)))
	}
	cond.Status, cond.Reason = metav1.ConditionTrue, v1alpha1.ReasonTransactionLogWaitingForBackup
	cond.Message = fmt.Sprintf("the log on %s waits for a log backup (log_reuse_wait_desc LOG_BACKUP) and none reached the target "+
		"for more than 2 x logBackupInterval (%s): %s. In FULL recovery only log backups truncate it, so it grows until they succeed",
		primary, 2*interval, strings.Join(parts, ", "))
	return cond
}

// primaryConditions are the conditions about the primary's backups that this cycle could read
// (BackupCompression, ForeignLogBackups, TransactionLogGrowing); one it could not read keeps its
// last value.
func primaryConditions(g *v1alpha1.FailoverGroup, c *shippingCycle) []metav1.Condition {
	var out []metav1.Condition
	if c.compression != nil {
		out = append(out, compressionCondition(g, c.target.Name, c.holder, *c.compression))
	}
	if c.foreign != nil {
		out = append(out, foreignLogBackupsCondition(g, c.target.Name, c.holder, c.foreign))
	}
	if c.logGrowth != nil {
		out = append(out, logGrowthCondition(g, c.holder, c.logGrowth))
	}
	return out
}
