package logshipping

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// SwitchoverDatabase is the outcome of PlannedSwitchover for one database.
type SwitchoverDatabase struct {
	Database string
	// AlreadyDone: the new primary was already ONLINE read-write and the old
	// one RESTORING when the call started (a repeated call).
	AlreadyDone bool
	// TailLog is the tail-log backup taken in this call (empty when an
	// earlier call took it).
	TailLog string
	// DisconnectedSessions counts the old primary's sessions killed for the
	// tail-log backup.
	DisconnectedSessions int
	// Applied lists the files restored on the new primary in this call.
	Applied []string
	// FinalLSN is the old primary's last LSN (the end of its tail-log
	// backup), which the new primary reached before recovery.
	FinalLSN sqlserver.LSN
}

// PlannedSwitchover moves the primary role of dbs from oldPrimary to
// newPrimary without losing a write:
//
//  1. catch up: a log backup on the old primary, restored on the new one,
//     so the next step is short;
//  2. the old primary's sessions in the database are disconnected and a
//     tail-log backup WITH NORECOVERY is taken into the chain directory:
//     the old primary is RESTORING from then on and accepts no write;
//  3. every remaining log backup, the tail last, is restored on the new
//     primary, which must reach the old primary's last LSN (ErrBehind
//     otherwise: it is not recovered);
//  4. RESTORE ... WITH RECOVERY on the new primary.
//
// The old primary is left RESTORING at the fork point, so it continues as a
// standby of the new primary without a reseed (RestoreStandby applies the
// new primary's log backups). Each database's step is found from the
// states of both members (Databases), so a call repeated after a crash
// continues where the previous one stopped. The error joins the databases
// that could not be switched.
func (s *Shipper) PlannedSwitchover(ctx context.Context, oldPrimary, newPrimary *sqlserver.Client, dbs []string, now time.Time) ([]SwitchoverDatabase, error) {
	if err := s.Target.Validate(); err != nil {
		return nil, err
	}
	var out []SwitchoverDatabase
	var errs []error
	for _, db := range dbs {
		sd, err := s.switchover(ctx, oldPrimary, newPrimary, db, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("switchover of %s from %s to %s: %w", db, oldPrimary.Address(), newPrimary.Address(), err))
		}
		out = append(out, sd)
	}
	return out, errors.Join(errs...)
}

func (s *Shipper) switchover(ctx context.Context, oldPrimary, newPrimary *sqlserver.Client, db string, now time.Time) (SwitchoverDatabase, error) {
	sd := SwitchoverDatabase{Database: db}
	oldSt, err := oldPrimary.Database(ctx, db)
	if err != nil {
		return sd, err
	}
	newSt, err := newPrimary.Database(ctx, db)
	if err != nil {
		return sd, err
	}
	switch {
	case newSt.Writable() && oldSt.Writable():
		return sd, fmt.Errorf("both members have %s ONLINE read-write: %w", db, ErrNotRestoring)
	case newSt.Writable():
		sd.AlreadyDone = true
		return sd, nil
	case !newSt.Exists:
		return sd, fmt.Errorf("new primary: %w", ErrDatabaseMissing)
	case !newSt.Restoring():
		return sd, fmt.Errorf("new primary has %s %s: %w", db, newSt.Describe(), ErrNotRestoring)
	case !oldSt.Exists:
		return sd, fmt.Errorf("old primary: %w", ErrDatabaseMissing)
	}
	if oldSt.Writable() {
		// 1. Catch up while the old primary still serves.
		if r := s.backupAt(ctx, oldPrimary, db, sqlserver.BackupLog, oldSt.LastLogBackupLSN, now, ReasonLogDue, false); r.Err != nil {
			return sd, r.Err
		}
		applied, err := s.applyAll(ctx, oldPrimary, newPrimary, db)
		sd.Applied = append(sd.Applied, applied...)
		if err != nil {
			return sd, err
		}
		// 2. Tail-log backup: from here on the old primary takes no write.
		r, killed, err := s.tailLog(ctx, oldPrimary, db, now, false)
		sd.DisconnectedSessions = killed
		if err != nil {
			return sd, err
		}
		sd.TailLog, sd.FinalLSN = r.Path, r.LastLSN
	} else if !oldSt.Restoring() {
		return sd, fmt.Errorf("old primary has %s %s: %w", db, oldSt.Describe(), ErrNotWritable)
	}
	// 3. The old primary is RESTORING: its last log backup (the tail) is where the new primary
	// must get to, read from that backup's own header (LastLSN). A RESTORING database's
	// sys.database_recovery_status.last_log_backup_lsn is not documented (it may be NULL), so it is
	// not used. When an earlier attempt took the tail, it is the newest log backup in the catalogue,
	// read through the old primary: without a view of the directory the catalogue comes from msdb's
	// backup history, and only the old primary's records the tail-log backup.
	if sd.FinalLSN.IsZero() {
		end, err := s.tailEnd(ctx, oldPrimary, db, now)
		if err != nil {
			return sd, err
		}
		sd.FinalLSN = end
	}
	applied, err := s.applyAll(ctx, oldPrimary, newPrimary, db)
	sd.Applied = append(sd.Applied, applied...)
	if err != nil {
		return sd, err
	}
	rs, err := newPrimary.RestoreState(ctx, db)
	if err != nil {
		return sd, err
	}
	if sd.FinalLSN.IsZero() || rs.RedoLSN.Less(sd.FinalLSN) {
		return sd, fmt.Errorf("new primary at %s, old primary's tail ends at %s: %w", rs.RedoLSN, sd.FinalLSN, ErrBehind)
	}
	// 4. Recover.
	if err := newPrimary.Recover(ctx, db); err != nil {
		return sd, err
	}
	return sd, ensureMultiUser(ctx, newPrimary, db)
}

// tailEnd is where the old primary's newest log backup of db ends (the LastLSN of its header):
// the highest of the catalogue's log backups and of the log backups msdb on the old primary says it
// took (backupset, not the sets it restored). msdb keeps the record when the file is gone, so a
// lost tail-log file makes the new primary fall short of it (ErrBehind) instead of being recovered
// without the tail. Zero when there is none. The history is read from the old primary's newest full
// backup (recentHistory): its tail-log backup came after it.
func (s *Shipper) tailEnd(ctx context.Context, oldPrimary *sqlserver.Client, db string, now time.Time) (sqlserver.LSN, error) {
	files, _, err := s.catalogue().List(ctx, oldPrimary, s.Target, db)
	if err != nil {
		return sqlserver.LSN{}, err
	}
	history, err := recentHistory(ctx, oldPrimary, db, now.Add(-historyWindow), "")
	if err != nil {
		return sqlserver.LSN{}, err
	}
	var end sqlserver.LSN
	for _, f := range files {
		if f.Type == sqlserver.BackupLog && end.Less(f.LastLSN) {
			end = f.LastLSN
		}
	}
	for _, h := range history {
		if h.Type == sqlserver.BackupLog && end.Less(h.LastLSN) {
			end = h.LastLSN
		}
	}
	return end, nil
}

// applyAll restores on target every log backup of db in the catalogue
// (read through reader) that continues its chain, WITH NORECOVERY.
func (s *Shipper) applyAll(ctx context.Context, reader, target *sqlserver.Client, db string) ([]string, error) {
	files, _, err := s.catalogue().List(ctx, reader, s.Target, db)
	if err != nil {
		return nil, err
	}
	rs, err := target.RestoreState(ctx, db)
	if err != nil {
		return nil, err
	}
	if rs.RedoLSN.IsZero() {
		return nil, ErrUnknownRedo
	}
	apply, gap := sqlserver.PlanLogRestores(rs.RedoLSN, files, time.Time{})
	if gap != nil {
		return nil, gap
	}
	if len(apply) > 0 && rs.Database.IsInStandby {
		if _, err := target.DisconnectSessions(ctx, db); err != nil {
			return nil, err
		}
	}
	var applied []string
	for _, f := range apply {
		err := target.RestoreLog(ctx, db, f.Path, sqlserver.RestoreOptions{Mode: sqlserver.RestoreNoRecovery, Checksum: s.Target.Checksum, File: f.Set()})
		if err != nil && !sqlserver.IsKind(err, sqlserver.KindLogTooEarly) {
			return applied, err
		}
		if err == nil {
			applied = append(applied, f.Name())
		}
	}
	return applied, nil
}
