package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RedoSource says where RestoreState found the redo point.
type RedoSource string

// Redo point sources.
const (
	// RedoFromMasterFiles: sys.master_files.redo_start_lsn, set while the
	// database is RESTORING.
	RedoFromMasterFiles RedoSource = "sys.master_files"
	// RedoFromRestoreHistory: last_lsn of the backup set last restored
	// (msdb.dbo.restorehistory), for a STANDBY database whose
	// redo_start_lsn is NULL.
	RedoFromRestoreHistory RedoSource = "msdb.dbo.restorehistory"
	// RedoUnknown: the database is not restoring, or nothing was restored.
	RedoUnknown RedoSource = ""
)

// RestoreState is how far a standby database has been restored.
type RestoreState struct {
	Database DatabaseState
	// RedoLSN is the redo point: the next log backup to apply must satisfy
	// FirstLSN <= RedoLSN < LastLSN. Zero when unknown (see RedoSource).
	RedoLSN LSN
	// RedoSource tells where RedoLSN came from.
	RedoSource RedoSource
	// LastRestoredFile is the backup file of the last restore into this
	// database (empty when none is recorded).
	LastRestoredFile string
	// LastRestoredType is the type of that backup.
	LastRestoredType BackupType
	// LastRestoredAt is when that restore ran.
	LastRestoredAt time.Time
	// LastRestoredBackupFinishedAt is when that backup had finished on the
	// primary: the standby holds the data written up to about then.
	LastRestoredBackupFinishedAt time.Time
	// LastRestoredLastLSN is the LastLSN of that backup.
	LastRestoredLastLSN LSN
}

// RestoreState returns the redo point of db (a RESTORING or STANDBY
// database) and its last restore. The redo point is
// sys.master_files.redo_start_lsn of the primary data file; when that is
// NULL (SQL Server leaves it NULL for ONLINE STANDBY databases) it is the
// last_lsn of the last restored backup set from msdb.dbo.restorehistory,
// the value SQL Server's own log shipping monitor uses. For a database that
// is not restoring, RedoLSN is zero and only the history is filled in.
func (c *Client) RestoreState(ctx context.Context, db string) (RestoreState, error) {
	if err := validateIdentifier(db); err != nil {
		return RestoreState{}, fmt.Errorf("restore state: %w", err)
	}
	st, err := c.Database(ctx, db)
	if err != nil {
		return RestoreState{}, fmt.Errorf("restore state of %s: %w", db, err)
	}
	rs := RestoreState{Database: st}
	if !st.Exists {
		return rs, nil
	}
	if err := c.lastRestore(ctx, db, &rs); err != nil {
		return RestoreState{}, fmt.Errorf("restore state of %s on %s: %w", db, c.Address(), err)
	}
	if !st.Restoring() {
		return rs, nil
	}
	var redo sql.NullString
	err = c.query(ctx, func(r *sql.Rows) error { return r.Scan(&redo) },
		`SELECT mf.redo_start_lsn FROM sys.master_files mf WHERE mf.database_id = DB_ID(@p1) AND mf.file_id = 1`, db)
	if err != nil {
		return RestoreState{}, fmt.Errorf("restore state of %s on %s: redo_start_lsn: %w", db, c.Address(), err)
	}
	masterFilesRedo, err := parseNullLSN(redo)
	if err != nil {
		return RestoreState{}, fmt.Errorf("restore state of %s: redo_start_lsn: %w", db, err)
	}
	rs.RedoLSN, rs.RedoSource = chooseRedo(masterFilesRedo, rs.LastRestoredLastLSN)
	return rs, nil
}

// chooseRedo picks the redo point of a restoring database: redo_start_lsn
// when the server reports one, else the LastLSN of the last restored backup
// set, else unknown.
func chooseRedo(masterFilesRedo, lastRestoredLastLSN LSN) (LSN, RedoSource) {
	switch {
	case !masterFilesRedo.IsZero():
		return masterFilesRedo, RedoFromMasterFiles
	case !lastRestoredLastLSN.IsZero():
		return lastRestoredLastLSN, RedoFromRestoreHistory
	}
	return LSN{}, RedoUnknown
}

// lastRestore fills in the last restorehistory row of db.
func (c *Client) lastRestore(ctx context.Context, db string, rs *RestoreState) error {
	clock, err := c.serverClock(ctx)
	if err != nil {
		return err
	}
	err = c.query(ctx, func(r *sql.Rows) error {
		var restoredAt, finished sql.NullTime
		var typ, file, last sql.NullString
		var zone sql.NullInt64
		if err := r.Scan(&restoredAt, &typ, &last, &finished, &file, &zone); err != nil {
			return err
		}
		lsn, err := parseNullLSN(last)
		if err != nil {
			return fmt.Errorf("last_lsn: %w", err)
		}
		rs.LastRestoredAt = clock.fromServer(restoredAt) // restorehistory has no time_zone: this server's offset
		rs.LastRestoredType = backupTypeFromMsdb(typ.String)
		rs.LastRestoredLastLSN = lsn
		rs.LastRestoredBackupFinishedAt = clock.fromBackupSet(finished, zone)
		rs.LastRestoredFile = file.String
		return nil
	}, `SELECT TOP (1) rh.restore_date, bs.type, bs.last_lsn, bs.backup_finish_date, bmf.physical_device_name, bs.time_zone
	    FROM msdb.dbo.restorehistory rh
	    JOIN msdb.dbo.backupset bs ON bs.backup_set_id = rh.backup_set_id
	    JOIN msdb.dbo.backupmediafamily bmf ON bmf.media_set_id = bs.media_set_id
	    WHERE rh.destination_database_name = @p1
	    ORDER BY rh.restore_history_id DESC`, db)
	return permissionDenied(err, "SELECT FROM msdb.dbo.restorehistory", needBackupHistory)
}
