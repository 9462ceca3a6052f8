package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
)

// msdb keeps every backup and restore for ever: sp_delete_backuphistory is SQL Server's way to
// drop the old rows. It works on the whole instance (every database's history) and by backup set:
// a backup set that finished before its date goes with its restore history, whatever the restore's
// own date. A STANDBY database's redo point is the last_lsn of its newest restorehistory row
// (RestoreState), so a date past the set a standby restored last would lose that standby's
// position: ProtectedRestores says how far back that goes.

// DeleteBackupHistory runs EXEC msdb.dbo.sp_delete_backuphistory @oldest_date: msdb's history of
// backup sets that finished before oldest (and their restore history) is deleted, for every
// database of the instance. oldest is an instant, passed as the server's local time (msdb's dates
// are local); the backup files are not touched.
func (c *Client) DeleteBackupHistory(ctx context.Context, oldest time.Time) error {
	clock, err := c.serverClock(ctx)
	if err != nil {
		return fmt.Errorf("delete backup history: %w", err)
	}
	local := mssql.DateTime1(clampToDatetime(clock.toServer(oldest)))
	if err := c.exec(ctx, `EXEC msdb.dbo.sp_delete_backuphistory @oldest_date = @p1`, local); err != nil {
		return fmt.Errorf("delete backup history before %s on %s: %w", oldest.UTC().Format(time.RFC3339), c.Address(),
			permissionDenied(err, "EXEC msdb.dbo.sp_delete_backuphistory", needDeleteHistory))
	}
	return nil
}

// ProtectedRestores returns when the oldest backup set finished that some database of the
// instance still needs in msdb: for every database that is restoring (RESTORING, or in STANDBY),
// the set of its newest restore. ok is false when no database is restoring. History older than
// that may go without losing a standby's position, whichever group or tool restores it.
func (c *Client) ProtectedRestores(ctx context.Context) (oldest time.Time, ok bool, err error) {
	var restoring []string
	err = c.query(ctx, func(r *sql.Rows) error {
		var name string
		if err := r.Scan(&name); err != nil {
			return err
		}
		restoring = append(restoring, name)
		return nil
	}, `SELECT d.name FROM sys.databases d WHERE d.state_desc = N'RESTORING' OR d.is_in_standby = 1`)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("restoring databases on %s: %w", c.Address(), err)
	}
	for _, db := range restoring {
		var rs RestoreState
		if err := c.lastRestore(ctx, db, &rs); err != nil {
			return time.Time{}, false, fmt.Errorf("last restore of %s on %s: %w", db, c.Address(), err)
		}
		if rs.LastRestoredBackupFinishedAt.IsZero() {
			continue
		}
		if !ok || rs.LastRestoredBackupFinishedAt.Before(oldest) {
			oldest, ok = rs.LastRestoredBackupFinishedAt, true
		}
	}
	return oldest, ok, nil
}
