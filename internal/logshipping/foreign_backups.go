package logshipping

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// Backups that other tools take. A log backup truncates the log it covers, so one written
// anywhere but the target (a DBA's maintenance job, a backup agent) is a link the standbys never
// see: the next shipped log backup no longer continues their chain (4305), the primary takes a
// full backup and the standbys are reseeded, and again after every run of that job. Backups taken
// WITH COPY_ONLY do not touch the chain and are ignored; so are full backups, which do not break a
// log chain.

// LogFindings is what the primary's msdb says about its databases' logs.
type LogFindings struct {
	// Foreign is, by database, the log backups since the newest full backup into the target that
	// were written outside the group's directory of the target and not WITH COPY_ONLY: the ones
	// that break the shipped chain. A database without a full backup in the target has none (its
	// chain has not started).
	Foreign map[string][]sqlserver.BackupRecord
	// Growing is the databases whose log has waited for a log backup for too long (log_growth.go).
	Growing []LogGrowth
}

// InspectLogs reads the primary's state and msdb backup history of dbs (from the newest full
// backup into the group's directory in the last historyWindow, recentHistory) for other tools' log backups and for logs that no log backup truncated for two log intervals.
// It needs neither the target nor the catalogue, so it reports even when the target is gone.
func (s *Shipper) InspectLogs(ctx context.Context, primary *sqlserver.Client, dbs []string, now time.Time) (LogFindings, error) {
	groupDir, err := s.Target.groupDir()
	if err != nil {
		return LogFindings{}, err
	}
	states, err := primary.Databases(ctx, dbs)
	if err != nil {
		return LogFindings{}, fmt.Errorf("inspect logs: %w", err)
	}
	out := LogFindings{Foreign: map[string][]sqlserver.BackupRecord{}, Growing: []LogGrowth{}}
	for _, db := range dbs {
		history, err := recentHistory(ctx, primary, db, now.Add(-historyWindow), groupDir)
		if err != nil {
			return LogFindings{}, fmt.Errorf("inspect logs of %s: %w", db, err)
		}
		if foreign := foreignLogBackups(history, groupDir); len(foreign) > 0 {
			out.Foreign[db] = foreign
		}
		if g, ok := logWaiting(db, states[db], history, now, logGrowthIntervals*s.Schedule.logInterval); ok {
			out.Growing = append(out.Growing, g)
		}
	}
	return out, nil
}

// foreignLogBackups is the log backups of history (oldest first) outside groupDir, not COPY_ONLY,
// that finished after the newest full backup inside it.
func foreignLogBackups(history []sqlserver.BackupRecord, groupDir string) []sqlserver.BackupRecord {
	var ourFull time.Time
	for _, h := range history {
		if h.Type == sqlserver.BackupFull && !h.IsCopyOnly && underDir(h.Path, groupDir) && h.FinishedAt.After(ourFull) {
			ourFull = h.FinishedAt
		}
	}
	if ourFull.IsZero() {
		return nil
	}
	var out []sqlserver.BackupRecord
	for _, h := range history {
		if h.Type == sqlserver.BackupLog && !h.IsCopyOnly && !underDir(h.Path, groupDir) && h.FinishedAt.After(ourFull) {
			out = append(out, h)
		}
	}
	return out
}

// groupDir is <Root>/<Namespace>/<Group>: the chain and salvage directories of every database.
func (t Target) groupDir() (string, error) {
	dir, err := t.Dir("db")
	if err != nil {
		return "", err
	}
	return path.Dir(dir), nil
}

// underDir reports whether the server path p is inside dir (either separator, case as written:
// Linux paths are case-sensitive).
func underDir(p, dir string) bool {
	p = strings.ReplaceAll(p, `\`, "/")
	dir = strings.TrimSuffix(strings.ReplaceAll(dir, `\`, "/"), "/")
	return strings.HasPrefix(p, dir+"/")
}
