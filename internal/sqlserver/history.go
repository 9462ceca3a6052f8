package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
)

// BackupRecord is a backup taken on the instance, from msdb.dbo.backupset
// and backupmediafamily.
type BackupRecord struct {
	BackupFile
	// BackupSetID is msdb's backup_set_id.
	BackupSetID int64
	// StartedAt is backup_start_date.
	StartedAt time.Time
	// ServerName is the server that took the backup.
	ServerName string
}

// BackupHistory returns the full ('D') and log ('L') backups of db that
// finished at or after since, oldest first: one record per backup set, so a
// file holding several sets (written without INIT) gives one record per set
// with its position (backupset.position) and recovery forks
// (first_recovery_fork_guid, last_recovery_fork_guid, fork_point_lsn). Backup sets that msdb records
// because they were restored here (restorehistory) are left out: they were
// taken elsewhere.
//
// msdb stores dates in the server's local time (its TZ): since is converted to it, and the dates
// read back to instants by each row's time_zone (server_clock.go).
func (c *Client) BackupHistory(ctx context.Context, db string, since time.Time) ([]BackupRecord, error) {
	return c.backupHistory(ctx, db, since, historyFullAndLog)
}

// FullBackupHistory is BackupHistory for full backups only: a few rows where BackupHistory returns
// every log backup too, to find where a read of the whole history has to start.
func (c *Client) FullBackupHistory(ctx context.Context, db string, since time.Time) ([]BackupRecord, error) {
	return c.backupHistory(ctx, db, since, historyFullOnly)
}

// The backup history queries: the same columns, full and log backups or full backups only.
const (
	historyColumns = `SELECT bs.backup_set_id, bs.type, bs.database_name, bs.first_lsn, bs.last_lsn, bs.checkpoint_lsn, bs.database_backup_lsn,
	           bs.backup_start_date, bs.backup_finish_date, bs.is_copy_only, bs.server_name, bmf.physical_device_name,
	           bs.position, bs.first_recovery_fork_guid, bs.last_recovery_fork_guid, bs.fork_point_lsn, bs.time_zone
	    FROM msdb.dbo.backupset bs
	    JOIN msdb.dbo.backupmediafamily bmf ON bmf.media_set_id = bs.media_set_id
	    WHERE bs.database_name = @p1 AND bs.backup_finish_date >= @p2 `
	historyFullAndLog = historyColumns + `AND bs.type IN ('D', 'L')
	    ORDER BY bs.backup_finish_date, bs.backup_set_id`
	historyFullOnly = historyColumns + `AND bs.type = 'D'
	    ORDER BY bs.backup_finish_date, bs.backup_set_id`
)

func (c *Client) backupHistory(ctx context.Context, db string, since time.Time, query string) ([]BackupRecord, error) {
	if err := validateIdentifier(db); err != nil {
		return nil, fmt.Errorf("backup history: %w", err)
	}
	clock, err := c.serverClock(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup history of %s: %w", db, err)
	}
	sinceParam := mssql.DateTime1(clampToDatetime(clock.toServer(since)))
	restored := map[int64]bool{}
	err = c.query(ctx, func(r *sql.Rows) error {
		var id int64
		if err := r.Scan(&id); err != nil {
			return err
		}
		restored[id] = true
		return nil
	}, `SELECT rh.backup_set_id FROM msdb.dbo.restorehistory rh WHERE rh.restore_date >= @p1`, sinceParam)
	if err != nil {
		return nil, fmt.Errorf("backup history of %s on %s: restore history: %w", db, c.Address(), permissionDenied(err, "SELECT FROM msdb.dbo.restorehistory", needBackupHistory))
	}
	var out []BackupRecord
	err = c.query(ctx, func(r *sql.Rows) error {
		rec, err := scanBackupRecord(r, clock)
		if err != nil || restored[rec.BackupSetID] {
			return err
		}
		out = append(out, rec)
		return nil
	}, query, db, sinceParam)
	if err != nil {
		return nil, fmt.Errorf("backup history of %s on %s: %w", db, c.Address(), permissionDenied(err, "SELECT FROM msdb.dbo.backupset", needBackupHistory))
	}
	return out, nil
}

// scanBackupRecord reads one row of the history queries.
func scanBackupRecord(r *sql.Rows, clock serverClock) (BackupRecord, error) {
	var rec BackupRecord
	var typ string
	var first, last, checkpoint, base sql.NullString
	var started, finished sql.NullTime
	var server, forkPoint sql.NullString
	var position, zone sql.NullInt64
	var firstFork, lastFork any
	if err := r.Scan(&rec.BackupSetID, &typ, &rec.Database, &first, &last, &checkpoint, &base,
		&started, &finished, &rec.IsCopyOnly, &server, &rec.Path, &position, &firstFork, &lastFork, &forkPoint, &zone); err != nil {
		return rec, err
	}
	for _, l := range []struct {
		name string
		from sql.NullString
		to   *LSN
	}{{"first_lsn", first, &rec.FirstLSN}, {"last_lsn", last, &rec.LastLSN}, {"checkpoint_lsn", checkpoint, &rec.CheckpointLSN},
		{"database_backup_lsn", base, &rec.DatabaseBackupLSN}, {"fork_point_lsn", forkPoint, &rec.ForkPointLSN}} {
		lsn, err := parseNullLSN(l.from)
		if err != nil {
			return rec, fmt.Errorf("%s: %w", l.name, err)
		}
		*l.to = lsn
	}
	rec.Position = int(position.Int64)
	rec.ForkID, rec.FirstForkID = guidString(lastFork), guidString(firstFork)
	if rec.FirstForkID == "" {
		rec.FirstForkID = rec.ForkID
	}
	rec.Type = backupTypeFromMsdb(typ)
	rec.StartedAt = clock.fromBackupSet(started, zone)
	rec.FinishedAt = clock.fromBackupSet(finished, zone)
	rec.ServerName = server.String
	return rec, nil
}

// minDatetime is the smallest value of SQL Server's datetime type.
var minDatetime = time.Date(1753, 1, 1, 0, 0, 0, 0, time.UTC)

// clampToDatetime keeps t within datetime's range (a zero since means "all
// history").
func clampToDatetime(t time.Time) time.Time {
	if t.Before(minDatetime) {
		return minDatetime
	}
	return t
}

// backupTypeFromMsdb maps backupset.type.
func backupTypeFromMsdb(t string) BackupType {
	switch t {
	case "D":
		return BackupFull
	case "L":
		return BackupLog
	}
	return BackupOther
}
