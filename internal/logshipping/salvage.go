package logshipping

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// SalvageResult is the outcome of Salvage for one database.
type SalvageResult struct {
	Database string
	// File is the salvage backup taken in this call: a log backup of
	// everything after the old primary's last log backup, in
	// <root>/<ns>/<group>/salvage/<db>/. Empty Path when none was taken.
	File BackupResult
	// AlreadyRestoring: the database was already RESTORING (salvaged by an
	// earlier call, or never diverged); nothing was taken.
	AlreadyRestoring bool
	// DisconnectedSessions counts the sessions killed for the backup.
	DisconnectedSessions int
	Err                  error
}

// Salvage preserves what an old primary wrote after its last shipped log
// backup, when it comes back after an unplanned failover (ONLINE, diverged
// from the new primary): its sessions are disconnected and a log backup
// WITH NORECOVERY is taken into the salvage directory, so the database is
// RESTORING and accepts no more writes. The salvage files are not part of
// the group's chain; a human can restore them elsewhere to recover the
// writes. Then Reseed turns the member into a standby of the new primary.
// Repeating Salvage is harmless (AlreadyRestoring). The error joins every
// database's Err.
func (s *Shipper) Salvage(ctx context.Context, oldPrimary *sqlserver.Client, dbs []string, now time.Time) ([]SalvageResult, error) {
	if err := s.Target.Validate(); err != nil {
		return nil, err
	}
	states, err := oldPrimary.Databases(ctx, dbs)
	if err != nil {
		return nil, fmt.Errorf("salvage: %w", err)
	}
	var out []SalvageResult
	var errs []error
	for _, db := range dbs {
		st := states[db]
		r := SalvageResult{Database: db}
		switch {
		case !st.Exists:
			r.Err = fmt.Errorf("salvage %s on %s: %w", db, oldPrimary.Address(), ErrDatabaseMissing)
		case st.Restoring():
			r.AlreadyRestoring = true
		case !st.Writable():
			r.Err = fmt.Errorf("salvage %s on %s (%s): %w", db, oldPrimary.Address(), st.Describe(), ErrNotWritable)
		default:
			file, killed, err := s.tailLog(ctx, oldPrimary, db, now, true)
			r.File, r.DisconnectedSessions = file, killed
			if err != nil {
				r.Err = fmt.Errorf("salvage %s on %s: %w", db, oldPrimary.Address(), err)
			}
		}
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// Reseed turns member into a standby of the current primary: every database
// of dbs is restored WITH REPLACE from the newest full backup in files that
// finished at or after notBefore (pass the failover time, so a full backup
// of the old primary's diverged history is never used; zero: any), followed
// by the log backups after it, and left in settings.Mode. A database that
// is ONLINE read-write is refused (ErrNotRestoring): Salvage it first, so
// nothing it holds is overwritten unsaved. The results and error are those
// of RestoreStandby.
func Reseed(ctx context.Context, member *sqlserver.Client, files Files, dbs []string, settings RestoreSettings, notBefore, now time.Time) ([]DatabaseRestoreResult, error) {
	if err := settings.validate(); err != nil {
		return nil, err
	}
	states, err := member.Databases(ctx, dbs)
	if err != nil {
		return nil, fmt.Errorf("reseed: %w", err)
	}
	r := restorer{c: member, settings: settings, now: now}
	var results []DatabaseRestoreResult
	var errs []error
	for _, db := range dbs {
		st := states[db]
		var res DatabaseRestoreResult
		if st.Writable() {
			res = DatabaseRestoreResult{Database: db, State: st.Describe(),
				Err: fmt.Errorf("reseed %s on %s: %w (salvage it first)", db, member.Address(), ErrNotRestoring)}
		} else {
			res = r.restore(ctx, db, st, withoutFullsBefore(files[db], notBefore), st.Exists)
		}
		if res.Err != nil {
			errs = append(errs, res.Err)
		}
		results = append(results, res)
	}
	return results, errors.Join(errs...)
}

// withoutFullsBefore drops the full backups that finished before t.
func withoutFullsBefore(files []sqlserver.BackupFile, t time.Time) []sqlserver.BackupFile {
	if t.IsZero() {
		return files
	}
	var out []sqlserver.BackupFile
	for _, f := range files {
		if f.Type == sqlserver.BackupFull && f.FinishedAt.Before(t) {
			continue
		}
		out = append(out, f)
	}
	return out
}
