package logshipping

import (
	"context"
	"fmt"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// msdb keeps a row per backup (and per restore) for ever; with a log backup a minute that is
// 45,000 rows a month per database. Every cycle reads the history, so every read is bounded:
//
//   - RunBackups, InspectLogs and the switchover's tailEnd read from the newest full backup
//     (recentHistory): what is due, which log backups broke the shipped chain and where the old
//     primary's tail ends are all after it;
//   - the catalogue, when it lists the target from msdb (no view of the directory), reads from
//     the oldest backup set the last prune decision kept (Catalogue.KeepHistoryFrom): retention,
//     the newest full backup of the current fork and everything after it, and what a lagging
//     standby still restores, all of which stay in the target.

// historyMargin is how much earlier than the time they need history reads start. msdb compares
// local datetimes: a daylight-saving change between the backup and the read shifts them by an
// hour, and a log backup may finish while a full backup runs.
const historyMargin = 2 * time.Hour

// recentHistory is db's backup history on c from where its newest full backup started (less
// historyMargin): the newest full backup not WITH COPY_ONLY that finished at or after floor,
// inside dir when dir is set. Without one it is the history since floor.
func recentHistory(ctx context.Context, c *sqlserver.Client, db string, floor time.Time, dir string) ([]sqlserver.BackupRecord, error) {
	fulls, err := c.FullBackupHistory(ctx, db, floor)
	if err != nil {
		return nil, fmt.Errorf("newest full backup: %w", err)
	}
	return c.BackupHistory(ctx, db, historyStart(fulls, floor, dir))
}

// historyStart is where recentHistory reads from, given the full backups since floor.
func historyStart(fulls []sqlserver.BackupRecord, floor time.Time, dir string) time.Time {
	since := floor
	for _, f := range fulls {
		if f.Type != sqlserver.BackupFull || f.IsCopyOnly || (dir != "" && !underDir(f.Path, dir)) {
			continue
		}
		start := f.StartedAt
		if start.IsZero() {
			start = f.FinishedAt
		}
		if s := start.Add(-historyMargin); s.After(since) {
			since = s
		}
	}
	return since
}
