package logshipping

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// RestoreSettings are a RestoreSchedule's settings for one standby.
type RestoreSettings struct {
	// Mode the databases are left in: sqlserver.RestoreStandby (read-only)
	// or sqlserver.RestoreNoRecovery (the zero value).
	Mode sqlserver.RestoreMode
	// UndoDir is the directory of the STANDBY undo files (<db>.tuf), as the
	// standby's SQL Server sees it; empty means the instance's default data
	// path.
	UndoDir string
	// Delay applies only backups that finished at least Delay before now.
	Delay time.Duration
	// DisconnectUsers puts a STANDBY database in SINGLE_USER WITH ROLLBACK
	// IMMEDIATE around its restores (readers are disconnected) and always
	// back in MULTI_USER. Without it, a restore that finds readers (3101)
	// is left for the next run (RetryLater).
	DisconnectUsers bool
	// Checksum verifies backup checksums (WITH CHECKSUM).
	Checksum bool
}

func (s RestoreSettings) validate() error {
	switch s.Mode {
	case sqlserver.RestoreStandby, sqlserver.RestoreNoRecovery:
	default:
		return fmt.Errorf("restore settings: mode %s: want Standby or NoRecovery", s.Mode)
	}
	if s.Delay < 0 {
		return fmt.Errorf("restore settings: negative delay %v", s.Delay)
	}
	return nil
}

// notAfter is the newest finish time a backup may have to be applied at
// now (zero: no limit).
func (s RestoreSettings) notAfter(now time.Time) time.Time {
	if s.Delay <= 0 {
		return time.Time{}
	}
	return now.Add(-s.Delay)
}

// DatabaseRestoreResult is the outcome of one run on one standby database.
type DatabaseRestoreResult struct {
	Database string
	// State after the run (sqlserver.DatabaseState.Describe()).
	State string
	// Seeded: the database did not exist and was restored from the latest
	// full backup. Reseeded: the chain was broken and a newer full backup
	// was restored WITH REPLACE.
	Seeded, Reseeded bool
	// Applied lists the files restored in this run, in order.
	Applied []string
	// LastRestoredFile, RedoLSN, LastRestoreTime and
	// LastRestoredBackupFinishedAt describe the newest restore (from
	// msdb.restorehistory), whether or not it happened in this run.
	LastRestoredFile             string
	RedoLSN                      sqlserver.LSN
	LastRestoreTime              time.Time
	LastRestoredBackupFinishedAt time.Time
	// Lag is how far the restored data is behind the newest backup in the
	// catalogue: newest backup finish minus the finish of the newest
	// restored backup (0 when caught up or unknown).
	Lag time.Duration
	// Pending counts log backups that could be applied but are held back
	// by the delay (or by readers, see RetryLater).
	Pending int
	// SkippedAlreadyApplied counts files SQL Server refused with 4326
	// (already applied).
	SkippedAlreadyApplied int
	// NeedsFullBackup: the log chain is broken (a gap, 4305, log backups
	// of another recovery fork, 4330, or a backup without the checksums
	// the restores verify, 3187) and no newer full backup can repair it;
	// the primary must take one (RunBackups with forceFull), after which
	// the next run reseeds.
	NeedsFullBackup bool
	// RetryLater: readers held the database (3101) and DisconnectUsers is
	// off; the chain is intact and the next run continues.
	RetryLater bool
	// Message explains NeedsFullBackup, RetryLater, a delay or a failure.
	Message string
	// Reason is a machine-readable cause for a condition (a reason of the
	// RestoreSchedule Ready condition, api/v1alpha1/vocabulary.go), set for
	// the failures below (empty otherwise):
	//   - v1alpha1.ReasonRestoreScheduleForkedDatabase (4330): the
	//     standby's database is on another recovery fork than the backups;
	//     it is reseeded from a full backup (NeedsFullBackup until one
	//     exists), Err is nil.
	//   - v1alpha1.ReasonRestoreScheduleOtherDatabase (3154): the standby's
	//     database is another database (another family) of the same name;
	//     it is left alone, Err is set (ErrOtherDatabase).
	//   - v1alpha1.ReasonRestoreScheduleChecksumMissing (3187): checksums
	//     are verified and a backup has none; it is not applied, the
	//     database is reseeded from a newer full backup (NeedsFullBackup
	//     until one exists), Err is nil.
	Reason string
	// Err is a failure that needs attention (nil for NeedsFullBackup and
	// RetryLater, which heal by themselves).
	Err error
}

// RestoreStandby brings the group's databases on a standby up to date from
// the catalogue files (per database), at now:
//
//   - a database that does not exist is seeded from the latest full backup
//     (finished before now - Delay) WITH NORECOVERY or STANDBY, its files
//     moved to the standby's default paths;
//   - log backups are applied in LSN order (sqlserver.PlanLogRestores),
//     only those finished before now - Delay, each leaving the database in
//     settings.Mode (STANDBY with an undo file <UndoDir>/<db>.tuf);
//   - a gap in the chain is repaired with a newer full backup WITH REPLACE
//     when the catalogue has one, otherwise reported as NeedsFullBackup;
//   - a database that is ONLINE read-write is left alone (ErrNotRestoring):
//     reseeding it is a controller's decision (Reseed).
//
// The error joins every database's Err and failures that stop the whole
// run (invalid settings, the standby unreachable).
func RestoreStandby(ctx context.Context, standby *sqlserver.Client, files Files, dbs []string, settings RestoreSettings, now time.Time) ([]DatabaseRestoreResult, error) {
	if err := settings.validate(); err != nil {
		return nil, err
	}
	states, err := standby.Databases(ctx, dbs)
	if err != nil {
		return nil, fmt.Errorf("restore standby: %w", err)
	}
	r := restorer{c: standby, settings: settings, now: now}
	var results []DatabaseRestoreResult
	var errs []error
	for _, db := range dbs {
		res := r.restore(ctx, db, states[db], files[db], false)
		if res.Err != nil {
			errs = append(errs, res.Err)
		}
		results = append(results, res)
	}
	return results, errors.Join(errs...)
}

// restorer restores the databases of one standby.
type restorer struct {
	c        *sqlserver.Client
	settings RestoreSettings
	now      time.Time
	undoDir  string // resolved lazily
}

// options returns the RESTORE options for db.
func (r *restorer) options(ctx context.Context, db string) (sqlserver.RestoreOptions, error) {
	opts := sqlserver.RestoreOptions{Mode: r.settings.Mode, Checksum: r.settings.Checksum}
	if opts.Mode != sqlserver.RestoreStandby {
		return opts, nil
	}
	if r.undoDir == "" {
		r.undoDir = r.settings.UndoDir
		if r.undoDir == "" {
			dir, err := r.c.DefaultDataPath(ctx)
			if err != nil {
				return opts, err
			}
			r.undoDir = dir
		}
	}
	opts.UndoFile = joinServerPath(r.undoDir, db+".tuf")
	return opts, nil
}

// restore runs one database; replace forces a reseed WITH REPLACE from the
// latest full backup (Reseed).
func (r *restorer) restore(ctx context.Context, db string, st sqlserver.DatabaseState, files []sqlserver.BackupFile, replace bool) (res DatabaseRestoreResult) {
	res = DatabaseRestoreResult{Database: db}
	defer func() { r.describe(ctx, db, files, &res) }()
	opts, err := r.options(ctx, db)
	if err != nil {
		res.Err = fmt.Errorf("restore %s: %w", db, err)
		return res
	}
	notAfter := r.settings.notAfter(r.now)
	full, haveFull := newestFull(files, notAfter)
	var lastRestoredFinish time.Time

	// Decide: seed, reseed, or continue the chain from the redo point.
	var redo sqlserver.LSN
	seed := false
	switch {
	case replace:
		seed = true
	case !st.Exists:
		seed = true
	case !st.Restoring():
		res.Err = fmt.Errorf("restore %s on %s (%s): %w", db, r.c.Address(), st.Describe(), ErrNotRestoring)
		return res
	default:
		rs, err := r.c.RestoreState(ctx, db)
		if err != nil {
			res.Err = err
			return res
		}
		if rs.RedoLSN.IsZero() {
			res.Err = fmt.Errorf("restore %s on %s: %w", db, r.c.Address(), ErrUnknownRedo)
			return res
		}
		redo, lastRestoredFinish = rs.RedoLSN, rs.LastRestoredBackupFinishedAt
		if _, gap := sqlserver.PlanLogRestores(redo, files, time.Time{}); gap != nil {
			if haveFull && full.LastLSN.Cmp(redo) > 0 {
				seed, replace = true, true
			} else {
				res.NeedsFullBackup = true
				res.Message = gap.Error()
			}
		}
	}
	if seed && !haveFull {
		res.NeedsFullBackup = true
		res.Message = fmt.Sprintf("%v for %s", ErrNoFullBackup, db)
		if notAfter.IsZero() {
			return res
		}
		if _, any := newestFull(files, time.Time{}); any {
			res.NeedsFullBackup = false
			res.Message = fmt.Sprintf("the full backup of %s is younger than the restore delay %v", db, r.settings.Delay)
		}
		return res
	}
	var apply []sqlserver.BackupFile
	if seed {
		apply, _ = sqlserver.PlanLogRestores(full.LastLSN, files, notAfter)
	} else {
		apply, _ = sqlserver.PlanLogRestores(redo, files, notAfter)
	}
	if !seed && len(apply) == 0 {
		return res
	}

	// Readers of a STANDBY database block restores.
	if st.Exists && st.IsInStandby && r.settings.DisconnectUsers {
		if err := r.c.SetSingleUser(ctx, db); err != nil {
			// Some versions refuse option changes on a STANDBY database:
			// disconnect the readers instead.
			if _, kerr := r.c.DisconnectSessions(ctx, db); kerr != nil {
				res.Err = fmt.Errorf("restore %s: disconnect readers: %w", db, errors.Join(err, kerr))
				return res
			}
		}
		defer func() {
			if err := ensureMultiUser(ctx, r.c, db); err != nil && res.Err == nil {
				res.Err = err
			}
		}()
	}

	if seed {
		if err := r.seed(ctx, db, full, opts, replace); err != nil {
			r.classify(db, full, err, &res)
			return res
		}
		res.Seeded, res.Reseeded = !replace, replace
		res.Applied = append(res.Applied, full.Name())
	}
	for _, f := range apply {
		setOpts := opts
		setOpts.File = f.Set()
		err := r.c.RestoreLog(ctx, db, f.Path, setOpts)
		if err == nil {
			res.Applied = append(res.Applied, f.Name())
			continue
		}
		if sqlserver.IsKind(err, sqlserver.KindLogTooEarly) {
			res.SkippedAlreadyApplied++
			continue
		}
		r.classify(db, f, err, &res)
		break
	}
	// The server refused the chain (4305 it was not predicted, or 3154: log
	// backups of another recovery fork, e.g. after a failover): a full
	// backup newer than anything restored here repairs it now; otherwise
	// the primary takes one (NeedsFullBackup) and the next run gets here.
	if res.NeedsFullBackup && !seed && haveFull && full.FinishedAt.After(lastRestoredFinish) {
		st, err := r.c.Database(ctx, db)
		if err != nil {
			res.Err = err
			return res
		}
		again := r.restore(ctx, db, st, files, true)
		again.Applied = append(res.Applied, again.Applied...)
		again.SkippedAlreadyApplied += res.SkippedAlreadyApplied
		if again.Err == nil && !again.NeedsFullBackup && again.Message == "" {
			// Say why it was reseeded (a forked standby, a gap).
			again.Message = fmt.Sprintf("reseeded from %s: %s", full.Name(), res.Message)
		}
		res = again
	}
	return res
}

// newestFull returns the full backup that finished last (ties: the higher
// LastLSN) among those finished at or before notAfter (zero: no limit).
// After a failover the newest full backup is the new primary's, even when
// the old primary's history reached higher LSNs on its abandoned fork.
func newestFull(files []sqlserver.BackupFile, notAfter time.Time) (sqlserver.BackupFile, bool) {
	var best sqlserver.BackupFile
	found := false
	for _, f := range files {
		if f.Type != sqlserver.BackupFull || (!notAfter.IsZero() && (f.FinishedAt.IsZero() || f.FinishedAt.After(notAfter))) {
			continue
		}
		if !found || f.FinishedAt.After(best.FinishedAt) || (f.FinishedAt.Equal(best.FinishedAt) && best.LastLSN.Less(f.LastLSN)) {
			best, found = f, true
		}
	}
	return best, found
}

// seed restores full into db (REPLACE when the database exists), the set
// of its file that the catalogue names (WITH FILE = n).
func (r *restorer) seed(ctx context.Context, db string, full sqlserver.BackupFile, opts sqlserver.RestoreOptions, replace bool) error {
	moves, err := r.c.MoveToDefaultPathsAt(ctx, db, full.Path, full.Set())
	if err != nil {
		return err
	}
	opts.Move, opts.Replace, opts.File = moves, replace, full.Set()
	return r.c.RestoreDatabase(ctx, db, full.Path, opts)
}

// classify turns a failed restore of f into the result's flags, Reason and
// a Message that says what happened and what repairs it.
func (r *restorer) classify(db string, f sqlserver.BackupFile, err error, res *DatabaseRestoreResult) {
	on := r.c.Address()
	switch sqlserver.Classify(err) {
	case sqlserver.KindDatabaseInUse:
		res.RetryLater = true
		res.Message = fmt.Sprintf("readers are using %s; the restore of %s is retried next run", db, f.Name())
	case sqlserver.KindLogTooRecent:
		res.NeedsFullBackup = true
		res.Message = fmt.Sprintf("log chain of %s broken at %s: %v", db, f.Name(), err)
	case sqlserver.KindRecoveryPathMismatch:
		// Same database, another fork: the standby followed a path the
		// primary's backups are not on (it restored an abandoned
		// primary's log backups, or went past the fork point). A full
		// backup of the current primary repairs it; it is the same
		// database, so REPLACE destroys nothing that is not in it.
		res.NeedsFullBackup = true
		res.Reason = v1alpha1.ReasonRestoreScheduleForkedDatabase
		res.Message = fmt.Sprintf("%s on %s is on another recovery fork than %s (SQL Server error 4330: it restored log backups "+
			"the current primary does not have, e.g. of the primary before a failover): it is reseeded from the newest full backup "+
			"of the current primary; until there is one, the primary must take a full backup", db, on, f.Name())
	case sqlserver.KindBackupOfOtherDatabase:
		// Another database of the same name: not ours to overwrite.
		res.Reason = v1alpha1.ReasonRestoreScheduleOtherDatabase
		res.Err = fmt.Errorf("%w: %s on %s: %w", ErrOtherDatabase, db, on, err)
		res.Message = fmt.Sprintf("%s on %s is not a copy of the primary's database (SQL Server error 3154 restoring %s: "+
			"it was created or restored from another database); understudy does not overwrite it: drop or rename it on %s "+
			"and the next run seeds it from the newest full backup", db, on, f.Name(), on)
	case sqlserver.KindChecksumMissing:
		// The file cannot be verified and is not applied; a full backup
		// the primary takes with checksums after it repairs the chain.
		res.NeedsFullBackup = true
		res.Reason = v1alpha1.ReasonRestoreScheduleChecksumMissing
		res.Message = fmt.Sprintf("%s has no backup checksums (taken without WITH CHECKSUM, e.g. by hand or before checksums were "+
			"turned on) and restores verify them (SQL Server error 3187): %s is reseeded from a newer full backup taken with "+
			"checksums; until there is one, the primary must take one; or turn checksums off (BackupTarget spec.checksum: false)", f.Name(), db)
	default:
		res.Err = err
		res.Message = err.Error()
	}
}

// describe fills in the restore position, state and lag after the run.
func (r *restorer) describe(ctx context.Context, db string, files []sqlserver.BackupFile, res *DatabaseRestoreResult) {
	rs, err := r.c.RestoreState(ctx, db)
	if err != nil {
		if res.Err == nil {
			res.Err = err
		}
		return
	}
	res.State = rs.Database.Describe()
	res.LastRestoredFile = rs.LastRestoredFile
	res.RedoLSN = rs.RedoLSN
	res.LastRestoreTime = rs.LastRestoredAt
	res.LastRestoredBackupFinishedAt = rs.LastRestoredBackupFinishedAt
	if newest, ok := (Files{db: files}).Newest(db); ok && !rs.LastRestoredBackupFinishedAt.IsZero() {
		res.Lag = max(newest.FinishedAt.Sub(rs.LastRestoredBackupFinishedAt), 0)
	}
	if rs.Database.Restoring() && !rs.RedoLSN.IsZero() {
		pending, _ := sqlserver.PlanLogRestores(rs.RedoLSN, files, time.Time{})
		res.Pending = len(pending)
		if res.Pending > 0 && res.Message == "" && r.settings.Delay > 0 {
			res.Message = fmt.Sprintf("%d log backups of %s wait for the restore delay %v", res.Pending, db, r.settings.Delay)
		}
	}
}

// ensureMultiUser puts an ONLINE database back in MULTI_USER, even when
// ctx is already canceled: a standby must not stay single-user.
func ensureMultiUser(ctx context.Context, c *sqlserver.Client, db string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	st, err := c.Database(ctx, db)
	if err != nil {
		return fmt.Errorf("back to multi user: %w", err)
	}
	if !st.Exists || st.State != sqlserver.StateOnline || st.UserAccess == sqlserver.UserAccessMulti {
		return nil
	}
	return c.SetMultiUser(ctx, db)
}
