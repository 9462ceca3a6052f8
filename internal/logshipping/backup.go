package logshipping

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// Reasons for a backup, in BackupResult.Reason.
const (
	ReasonFirstFull  = "NoFullBackup"    // no full backup was ever taken on this primary
	ReasonForced     = "Forced"          // a standby's chain broke (forceFull)
	ReasonScheduled  = "Scheduled"       // the full backup schedule fired
	ReasonLogChain   = "LogChainMissing" // BACKUP LOG failed with 4214: a full backup starts the chain
	ReasonLogDue     = "LogIntervalDue"  // the log backup interval passed
	ReasonTailLog    = "TailLog"         // tail-log backup of a planned switchover
	ReasonSalvageLog = "Salvage"         // unshipped tail of an old primary
)

// BackupResult is one backup taken (or attempted) by RunBackups.
type BackupResult struct {
	Database string
	Type     sqlserver.BackupType
	// Path of the file as the SQL Servers see it.
	Path string
	// FirstLSN, LastLSN and FinishedAt come from the file's header.
	FirstLSN, LastLSN sqlserver.LSN
	FinishedAt        time.Time
	// Reason is why the backup was taken (Reason* constants).
	Reason string
	// Err is the failure, nil on success; sqlserver.Classify tells its
	// kind (KindBackupDevice for an unreachable target path, ...).
	Err error
}

// File returns the result as a catalogue entry.
func (r BackupResult) File() sqlserver.BackupFile {
	return sqlserver.BackupFile{Path: r.Path, Type: r.Type, Database: r.Database, FirstLSN: r.FirstLSN, LastLSN: r.LastLSN, FinishedAt: r.FinishedAt}
}

// historyWindow is how far back RunBackups looks for the primary's newest full
// backup in msdb: long enough for a monthly full backup schedule. A full
// backup older than that counts as missing (one more full backup). The
// history itself is read from that full backup on (recentHistory).
const historyWindow = 32 * 24 * time.Hour

// RunBackups takes the backups that are due on the primary, for every
// database of dbs, at now:
//
//   - a full backup when the primary never took one (msdb history), when
//     forceFull[db] is set (a standby's chain broke: RestoreStandby reported
//     NeedsFullBackup), or when the full backup schedule fired;
//   - then a log backup when the log interval passed since the last one. If
//     SQL Server answers 4214 (no log chain, e.g. after a switch from SIMPLE
//     recovery), a full backup is taken instead.
//
// Files go to sqlserver.BackupPath under the target; the directory is
// created through the server (EnsureDirectory). Results list every backup
// taken or attempted; a database with nothing due has none. The error joins
// every result's Err plus failures to query the instance: the results say
// which databases were backed up anyway.
func (s *Shipper) RunBackups(ctx context.Context, primary *sqlserver.Client, dbs []string, now time.Time, forceFull map[string]bool) ([]BackupResult, error) {
	if err := s.Target.Validate(); err != nil {
		return nil, err
	}
	states, err := primary.Databases(ctx, dbs)
	if err != nil {
		return nil, fmt.Errorf("run backups: %w", err)
	}
	var results []BackupResult
	var errs []error
	for _, db := range dbs {
		rs := s.backupDatabase(ctx, primary, db, states[db], now, forceFull[db])
		for _, r := range rs {
			if r.Err != nil {
				errs = append(errs, r.Err)
			}
		}
		results = append(results, rs...)
	}
	return results, errors.Join(errs...)
}

func (s *Shipper) backupDatabase(ctx context.Context, primary *sqlserver.Client, db string, st sqlserver.DatabaseState, now time.Time, force bool) []BackupResult {
	fail := func(err error) []BackupResult {
		return []BackupResult{{Database: db, Type: sqlserver.BackupOther, Err: err}}
	}
	switch {
	case !st.Exists:
		return fail(fmt.Errorf("backup %s on %s: %w", db, primary.Address(), ErrDatabaseMissing))
	case !st.Writable():
		return fail(fmt.Errorf("backup %s on %s (%s): %w", db, primary.Address(), st.Describe(), ErrNotWritable))
	case st.RecoveryModel == sqlserver.RecoverySimple:
		return fail(fmt.Errorf("backup %s on %s: %w", db, primary.Address(), ErrSimpleRecovery))
	}
	history, err := recentHistory(ctx, primary, db, now.Add(-historyWindow), "")
	if err != nil {
		return fail(err)
	}
	var lastFull, lastLog time.Time
	used := map[string]bool{}
	for _, h := range history {
		used[h.Path] = true
		if h.IsCopyOnly {
			continue
		}
		switch h.Type {
		case sqlserver.BackupFull:
			lastFull = later(lastFull, h.FinishedAt)
		case sqlserver.BackupLog:
			lastLog = later(lastLog, h.FinishedAt)
		}
	}
	fullDue, logDue := s.Schedule.Due(now, lastFull, lastLog)
	reason := ReasonScheduled
	switch {
	case force:
		fullDue, reason = true, ReasonForced
	case lastFull.IsZero():
		reason = ReasonFirstFull
	}
	if !fullDue && !logDue {
		return nil
	}
	dir, err := s.Target.Dir(db)
	if err != nil {
		return fail(err)
	}
	denied, err := ensureDirectory(ctx, primary, dir)
	if err != nil {
		return fail(err)
	}
	var results []BackupResult
	if fullDue {
		r := withDenied(s.backup(ctx, primary, db, sqlserver.BackupFull, st.LastLogBackupLSN, now, used, reason), denied)
		results = append(results, r)
		if r.Err != nil {
			return results
		}
	}
	if logDue {
		r := s.backup(ctx, primary, db, sqlserver.BackupLog, st.LastLogBackupLSN, now, used, ReasonLogDue)
		if sqlserver.IsKind(r.Err, sqlserver.KindNoFullBackup) && !fullDue {
			r = s.backup(ctx, primary, db, sqlserver.BackupFull, st.LastLogBackupLSN, now, used, ReasonLogChain)
		}
		results = append(results, withDenied(r, denied))
	}
	return results
}

// backup takes one backup of db into the target and reads its header.
func (s *Shipper) backup(ctx context.Context, c *sqlserver.Client, db string, typ sqlserver.BackupType, nameLSN sqlserver.LSN, now time.Time, used map[string]bool, reason string) BackupResult {
	r := BackupResult{Database: db, Type: typ, Reason: reason}
	p, err := s.freshPath(db, typ, nameLSN, now, used, false)
	if err != nil {
		r.Err = err
		return r
	}
	r.Path = p
	opts, err := s.backupOptionsOn(ctx, c)
	if err != nil {
		r.Err = err
		return r
	}
	if typ == sqlserver.BackupFull {
		err = c.BackupDatabase(ctx, db, p, opts)
	} else {
		err = c.BackupLog(ctx, db, p, opts)
	}
	if err != nil {
		if sqlserver.IsKind(err, sqlserver.KindSimpleRecovery) {
			err = fmt.Errorf("%w: %w", ErrSimpleRecovery, err)
		}
		r.Err = explainAccessDenied(err)
		return r
	}
	used[p] = true
	return s.describe(ctx, c, r)
}

// describe fills in r's LSNs and finish time from the file's header and
// remembers the header in the catalogue.
func (s *Shipper) describe(ctx context.Context, c *sqlserver.Client, r BackupResult) BackupResult {
	sets, err := c.ReadHeader(ctx, r.Path)
	if err != nil {
		r.Err = fmt.Errorf("backup %s written, but its header could not be read: %w", r.Path, err)
		return r
	}
	// Written WITH INIT, the file holds this one set; remember every set
	// anyway, so that the catalogue's view of the file is whole.
	all := make([]sqlserver.BackupFile, 0, len(sets))
	for _, h := range sets {
		if h.Type == sqlserver.BackupOther || !strings.EqualFold(h.DatabaseName, r.Database) {
			continue
		}
		f := h.File(r.Path)
		f.FinishedAt = f.FinishedAt.UTC()
		all = append(all, f)
	}
	if len(all) != len(sets) || len(all) == 0 {
		r.Err = fmt.Errorf("backup %s written, but it holds sets of other kinds or databases", r.Path)
		return r
	}
	f := all[len(all)-1]
	r.FirstLSN, r.LastLSN, r.FinishedAt = f.FirstLSN, f.LastLSN, f.FinishedAt
	s.catalogue().Remember(s.Target, all...)
	return r
}

// freshPath returns a backup path for db that no earlier backup used: the
// name carries now (to the second) and the LSN the backup starts after; if
// that name is taken (two backups in one second), a later second is used.
func (s *Shipper) freshPath(db string, typ sqlserver.BackupType, nameLSN sqlserver.LSN, now time.Time, used map[string]bool, salvage bool) (string, error) {
	for i := range 3600 {
		t := now.Add(time.Duration(i) * time.Second)
		var p string
		var err error
		if salvage {
			p, err = sqlserver.SalvagePath(s.Target.Root, s.Target.Namespace, s.Target.Group, db, t, nameLSN, typ)
		} else {
			p, err = sqlserver.BackupPath(s.Target.Root, s.Target.Namespace, s.Target.Group, db, t, nameLSN, typ)
		}
		if err != nil {
			return "", fmt.Errorf("backup of %s: %w", db, err)
		}
		if used[p] {
			continue
		}
		if s.Target.LocalRoot != "" {
			if _, err := os.Stat(s.Target.toLocal(p)); err == nil {
				continue
			}
		}
		return p, nil
	}
	return "", fmt.Errorf("backup of %s: no free file name after %s", db, now.UTC().Format(time.RFC3339))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// explainAccessDenied adds what to do to a backup-device error whose cause is "Operating system
// error 5(Access is denied.)": SQL Server (uid 10001 in its image) cannot write the backup volume.
func explainAccessDenied(err error) error {
	if !sqlserver.IsKind(err, sqlserver.KindBackupDevice) || !strings.Contains(err.Error(), "Operating system error 5(") {
		return err
	}
	return fmt.Errorf("%w (SQL Server cannot write the backup directory: it runs as uid 10001 in its image; "+
		"make the backup volume writable by it, see docs/sqlserver.md, A shared backup volume)", err)
}
