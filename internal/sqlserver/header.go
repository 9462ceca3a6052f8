package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
)

// BackupHeader is one backup set of a file, as RESTORE HEADERONLY reports
// it.
type BackupHeader struct {
	// Position is the set's number in the file (FILE = n), from 1.
	Position int
	// Type is BackupFull or BackupLog (other types are BackupOther).
	Type BackupType
	// RawBackupType is HEADERONLY's BackupType code (1 database, 2 log,
	// 5 differential, ...).
	RawBackupType int
	DatabaseName  string
	ServerName    string
	FirstLSN      LSN
	LastLSN       LSN
	CheckpointLSN LSN
	// DatabaseBackupLSN is the CheckpointLSN of the full backup the set is
	// based on (0 for the first full backup).
	DatabaseBackupLSN  LSN
	BackupStartDate    time.Time
	BackupFinishDate   time.Time
	IsCopyOnly         bool
	IsForceOffline     bool
	HasBackupChecksums bool
	Compressed         bool
	RecoveryModel      string
	FamilyGUID         string
	// RecoveryForkID is the recovery fork the set ends on, FirstRecoveryForkID
	// the one it starts on, and ForkPointLSN the fork point when they differ
	// (a log backup spanning a RESTORE ... WITH RECOVERY).
	RecoveryForkID      string
	FirstRecoveryForkID string
	ForkPointLSN        LSN
}

// File returns the header as a BackupFile at path, for planning.
func (h BackupHeader) File(path string) BackupFile {
	return BackupFile{
		Path: path, Type: h.Type, Database: h.DatabaseName,
		FirstLSN: h.FirstLSN, LastLSN: h.LastLSN, CheckpointLSN: h.CheckpointLSN, DatabaseBackupLSN: h.DatabaseBackupLSN,
		FinishedAt: h.BackupFinishDate, IsCopyOnly: h.IsCopyOnly,
		Position: h.Position, ForkID: h.RecoveryForkID, FirstForkID: h.FirstRecoveryForkID, ForkPointLSN: h.ForkPointLSN,
	}
}

// HEADERONLY BackupType codes.
const (
	headerTypeDatabase = 1
	headerTypeLog      = 2
)

// ReadHeader reads the backup sets of the file at path (on the server's
// file system) with RESTORE HEADERONLY: one per set, in Position order (a
// file written without INIT holds several).
func (c *Client) ReadHeader(ctx context.Context, path string) ([]BackupHeader, error) {
	if err := validateDevicePath(path); err != nil {
		return nil, fmt.Errorf("read backup header: %w", err)
	}
	// The header's dates are the writer's local time; the group's members share a time zone (the
	// documented set-up), so the reader's offset converts them.
	clock, err := c.serverClock(ctx)
	if err != nil {
		return nil, fmt.Errorf("read backup header of %s: %w", path, err)
	}
	var out []BackupHeader
	ctx, cancel := c.backupRestoreContext(ctx)
	defer cancel()
	err = c.queryWithContext(ctx, func(r *sql.Rows) error {
		m, err := scanRowMap(r)
		if err != nil {
			return err
		}
		h, err := headerFromRow(m)
		if err != nil {
			return err
		}
		h.BackupStartDate = clock.instant(h.BackupStartDate)
		h.BackupFinishDate = clock.instant(h.BackupFinishDate)
		out = append(out, h)
		return nil
	}, "RESTORE HEADERONLY FROM DISK = @p1", path)
	if err != nil {
		return nil, fmt.Errorf("read backup header of %s: %w", path, permissionDenied(err, "RESTORE HEADERONLY", needDBCreator))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read backup header of %s: no backup set", path)
	}
	return out, nil
}

func headerFromRow(m rowMap) (BackupHeader, error) {
	var errs []error
	num := func(col string) int64 {
		v, err := m.int64(col)
		errs = append(errs, err)
		return v
	}
	lsn := func(col string) LSN {
		v, err := m.lsn(col)
		errs = append(errs, err)
		return v
	}
	h := BackupHeader{
		Position:            int(num("Position")),
		RawBackupType:       int(num("BackupType")),
		DatabaseName:        m.string("DatabaseName"),
		ServerName:          m.string("ServerName"),
		FirstLSN:            lsn("FirstLSN"),
		LastLSN:             lsn("LastLSN"),
		CheckpointLSN:       lsn("CheckpointLSN"),
		DatabaseBackupLSN:   lsn("DatabaseBackupLSN"),
		BackupStartDate:     m.time("BackupStartDate"),
		BackupFinishDate:    m.time("BackupFinishDate"),
		IsCopyOnly:          m.bool("IsCopyOnly"),
		IsForceOffline:      m.bool("IsForceOffline"),
		HasBackupChecksums:  m.bool("HasBackupChecksums"),
		Compressed:          m.bool("Compressed"),
		RecoveryModel:       m.string("RecoveryModel"),
		FamilyGUID:          guidOf(m, "FamilyGUID"),
		RecoveryForkID:      guidOf(m, "RecoveryForkID"),
		FirstRecoveryForkID: guidOf(m, "FirstRecoveryForkID"),
		ForkPointLSN:        lsn("ForkPointLSN"),
	}
	if h.FirstRecoveryForkID == "" {
		h.FirstRecoveryForkID = h.RecoveryForkID
	}
	switch h.RawBackupType {
	case headerTypeDatabase:
		h.Type = BackupFull
	case headerTypeLog:
		h.Type = BackupLog
	default:
		h.Type = BackupOther
	}
	if err := errors.Join(errs...); err != nil {
		return BackupHeader{}, fmt.Errorf("HEADERONLY row: %w", err)
	}
	return h, nil
}

// BackupFileEntry is one database file in a backup (RESTORE FILELISTONLY).
type BackupFileEntry struct {
	LogicalName  string
	PhysicalName string
	// Type is "D" (data), "L" (log), or another FILELISTONLY code.
	Type   string
	FileID int64
}

// FileList reads the database files recorded in the first backup set of
// the file at path (RESTORE FILELISTONLY).
func (c *Client) FileList(ctx context.Context, path string) ([]BackupFileEntry, error) {
	return c.FileListAt(ctx, path, 1)
}

// FileListAt reads the database files recorded in backup set position of
// the file at path (RESTORE FILELISTONLY ... WITH FILE = position).
func (c *Client) FileListAt(ctx context.Context, path string, position int) ([]BackupFileEntry, error) {
	if err := validateDevicePath(path); err != nil {
		return nil, fmt.Errorf("read backup file list: %w", err)
	}
	if err := validateSetPosition(position); err != nil {
		return nil, fmt.Errorf("read backup file list of %s: %w", path, err)
	}
	var out []BackupFileEntry
	ctx, cancel := c.backupRestoreContext(ctx)
	defer cancel()
	err := c.queryWithContext(ctx, func(r *sql.Rows) error {
		m, err := scanRowMap(r)
		if err != nil {
			return err
		}
		id, err := m.int64("FileId")
		if err != nil {
			return err
		}
		out = append(out, BackupFileEntry{LogicalName: m.string("LogicalName"), PhysicalName: m.string("PhysicalName"), Type: m.string("Type"), FileID: id})
		return nil
	}, "RESTORE FILELISTONLY FROM DISK = @p1 WITH FILE = @p2", path, int64(position))
	if err != nil {
		return nil, fmt.Errorf("read backup file list of %s: %w", path, permissionDenied(err, "RESTORE FILELISTONLY", needDBCreator))
	}
	return out, nil
}

// maxSetPosition is the highest backup set number (backupset.position is a
// smallint).
const maxSetPosition = 32767

// validateSetPosition checks a WITH FILE = n value before it is sent (as a
// parameter).
func validateSetPosition(n int) error {
	if n < 1 || n > maxSetPosition {
		return fmt.Errorf("backup set position %d is not between 1 and %d", n, maxSetPosition)
	}
	return nil
}

// guidOf reads a uniqueidentifier column: the driver returns SQL Server's
// 16 wire bytes, a string when the server sends text. The result is the
// upper-case canonical form, "" for NULL.
func guidOf(m rowMap, col string) string {
	return guidString(m[strings.ToLower(col)])
}

func guidString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []byte:
		var u mssql.UniqueIdentifier
		if len(v) == 16 && u.Scan(v) == nil {
			return u.String()
		}
		return strings.ToUpper(string(v))
	case string:
		return strings.ToUpper(strings.Trim(v, "{}"))
	}
	return strings.ToUpper(fmt.Sprint(v))
}
