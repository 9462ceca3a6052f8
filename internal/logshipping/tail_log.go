package logshipping

import (
	"context"
	"fmt"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// tailLog disconnects the sessions using db on c and takes a log backup
// WITH NORECOVERY, into the chain directory or the salvage directory. A
// session that connects between the two is disconnected and the backup
// retried a few times.
func (s *Shipper) tailLog(ctx context.Context, c *sqlserver.Client, db string, now time.Time, salvage bool) (BackupResult, int, error) {
	reason := ReasonTailLog
	if salvage {
		reason = ReasonSalvageLog
	}
	killed := 0
	for attempt := 0; ; attempt++ {
		n, err := c.DisconnectSessions(ctx, db)
		killed += n
		if err != nil {
			return BackupResult{}, killed, err
		}
		st, err := c.Database(ctx, db)
		if err != nil {
			return BackupResult{}, killed, err
		}
		r := s.backupAt(ctx, c, db, sqlserver.BackupLog, st.LastLogBackupLSN, now, reason, salvage)
		if r.Err == nil || !sqlserver.IsKind(r.Err, sqlserver.KindDatabaseInUse) || attempt == 3 {
			return r, killed, r.Err
		}
	}
}

// backupAt takes one backup of db (a tail-log backup WITH NORECOVERY for
// the tail and salvage reasons) into the chain or salvage directory.
func (s *Shipper) backupAt(ctx context.Context, c *sqlserver.Client, db string, typ sqlserver.BackupType, nameLSN sqlserver.LSN, now time.Time, reason string, salvage bool) BackupResult {
	r := BackupResult{Database: db, Type: typ, Reason: reason}
	var dir string
	var err error
	if salvage {
		dir, err = sqlserver.SalvageDir(s.Target.Root, s.Target.Namespace, s.Target.Group, db)
	} else {
		dir, err = s.Target.Dir(db)
	}
	var denied error
	if err == nil {
		denied, err = ensureDirectory(ctx, c, dir)
	}
	if err != nil {
		r.Err = err
		return r
	}
	p, err := s.freshPath(db, typ, nameLSN, now, map[string]bool{}, salvage)
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
	opts.NoRecovery = reason == ReasonTailLog || reason == ReasonSalvageLog
	if typ == sqlserver.BackupFull {
		err = c.BackupDatabase(ctx, db, p, opts)
	} else {
		err = c.BackupLog(ctx, db, p, opts)
	}
	if err != nil {
		r.Err = explainAccessDenied(err)
		return withDenied(r, denied)
	}
	if salvage {
		// Salvage files are not part of the chain: not catalogued.
		sets, err := c.ReadHeader(ctx, p)
		if err != nil {
			r.Err = fmt.Errorf("salvage backup %s written, but its header could not be read: %w", p, err)
			return r
		}
		f := sets[len(sets)-1].File(p)
		r.FirstLSN, r.LastLSN, r.FinishedAt = f.FirstLSN, f.LastLSN, f.FinishedAt.UTC()
		return r
	}
	return s.describe(ctx, c, r)
}
