package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
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
}

// File returns the header as a BackupFile at path, for planning.
func (h BackupHeader) File(path string) BackupFile {
	return BackupFile{
		Path: path, Type: h.Type, Database: h.DatabaseName,
		FirstLSN: h.FirstLSN, LastLSN: h.LastLSN, CheckpointLSN: h.CheckpointLSN, DatabaseBackupLSN: h.DatabaseBackupLSN,
		FinishedAt: h.BackupFinishDate, IsCopyOnly: h.IsCopyOnly,
	}
}

// HEADERONLY BackupType codes.
const (
	headerTypeDatabase = 1
	headerTypeLog      = 2
)

// ReadHeader reads the backup sets of the file at path (on the server's
// file system) with RESTORE HEADERONLY.
func (c *Client) ReadHeader(ctx context.Context, path string) ([]BackupHeader, error) {
	if err := validateDevicePath(path); err != nil {
		return nil, fmt.Errorf("read backup header: %w", err)
	}
	var out []BackupHeader
	ctx, cancel := c.backupRestoreContext(ctx)
	defer cancel()
	err := c.queryWithContext(ctx, func(r *sql.Rows) error {
		m, err := scanRowMap(r)
		if err != nil {
			return err
		}
		h, err := headerFromRow(m)
		if err != nil {
			return err
		}
		out = append(out, h)
		return nil
	}, "RESTORE HEADERONLY FROM DISK = @p1", path)
	if err != nil {
		return nil, fmt.Errorf("read backup header of %s: %w", path, err)
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
		Position:           int(num("Position")),
		RawBackupType:      int(num("BackupType")),
		DatabaseName:       m.string("DatabaseName"),
		ServerName:         m.string("ServerName"),
		FirstLSN:           lsn("FirstLSN"),
		LastLSN:            lsn("LastLSN"),
		CheckpointLSN:      lsn("CheckpointLSN"),
		DatabaseBackupLSN:  lsn("DatabaseBackupLSN"),
		BackupStartDate:    m.time("BackupStartDate"),
		BackupFinishDate:   m.time("BackupFinishDate"),
		IsCopyOnly:         m.bool("IsCopyOnly"),
		IsForceOffline:     m.bool("IsForceOffline"),
		HasBackupChecksums: m.bool("HasBackupChecksums"),
		Compressed:         m.bool("Compressed"),
		RecoveryModel:      m.string("RecoveryModel"),
		FamilyGUID:         m.string("FamilyGUID"),
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
	if err := validateDevicePath(path); err != nil {
		return nil, fmt.Errorf("read backup file list: %w", err)
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
	}, "RESTORE FILELISTONLY FROM DISK = @p1", path)
	if err != nil {
		return nil, fmt.Errorf("read backup file list of %s: %w", path, err)
	}
	return out, nil
}
