package logshipping

import (
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// In FULL recovery only a log backup truncates the log. Once the operator has switched a database
// from SIMPLE to FULL (or the user relies on its log backups), log backups that stop (a target
// that cannot be written, a primary that refuses them) make the log grow until the disk is full.

// logGrowthIntervals is how many log intervals without a log backup, while the log waits for one,
// make a database's log "growing".
const logGrowthIntervals = 2

// LogGrowth is a database whose log has waited for a log backup (log_reuse_wait_desc LOG_BACKUP)
// for more than two log intervals.
type LogGrowth struct {
	Database string
	// Since is when the newest log backup (any, not COPY_ONLY) finished, or, without one, the
	// newest full backup.
	Since time.Time
}

// logWaiting reports db when its log waits for a log backup (log_reuse_wait_desc LOG_BACKUP) and
// the newest backup in history (oldest first) that truncated it, a log backup not WITH COPY_ONLY
// wherever it was written, else the newest full backup, finished more than limit before now. A
// database without any backup is left out: its first full backup is reported on its own.
func logWaiting(db string, st sqlserver.DatabaseState, history []sqlserver.BackupRecord, now time.Time, limit time.Duration) (LogGrowth, bool) {
	if !st.Writable() || st.LogReuseWait != sqlserver.LogReuseWaitLogBackup {
		return LogGrowth{}, false
	}
	var lastLog, lastFull time.Time
	for _, h := range history {
		switch {
		case h.IsCopyOnly:
		case h.Type == sqlserver.BackupLog && h.FinishedAt.After(lastLog):
			lastLog = h.FinishedAt
		case h.Type == sqlserver.BackupFull && h.FinishedAt.After(lastFull):
			lastFull = h.FinishedAt
		}
	}
	since := lastLog
	if since.IsZero() {
		since = lastFull
	}
	if since.IsZero() || now.Sub(since) <= limit {
		return LogGrowth{}, false
	}
	return LogGrowth{Database: db, Since: since}, true
}
