package sqlserver

import (
	"fmt"
	"time"
)

// BackupType is the kind of a backup file.
type BackupType int

// Backup types.
const (
	// BackupOther is any backup this package does not plan with
	// (differential, file, ...).
	BackupOther BackupType = iota
	// BackupFull is a full database backup (msdb type 'D').
	BackupFull
	// BackupLog is a transaction log backup (msdb type 'L').
	BackupLog
)

// String returns "Full", "Log" or "Other".
func (t BackupType) String() string {
	switch t {
	case BackupFull:
		return "Full"
	case BackupLog:
		return "Log"
	}
	return "Other"
}

// Extension returns the file extension used for the type: ".bak" for
// full backups, ".trn" for log backups.
func (t BackupType) Extension() string {
	if t == BackupLog {
		return ".trn"
	}
	return ".bak"
}

// BackupFile is a backup file with the LSN range it covers: what the
// planning functions need to know about it.
type BackupFile struct {
	// Path of the file as the SQL Servers see it.
	Path     string
	Type     BackupType
	Database string
	// FirstLSN and LastLSN bound the log the backup covers: a log backup
	// applies to a database whose redo point R satisfies
	// FirstLSN <= R < LastLSN.
	FirstLSN, LastLSN LSN
	// CheckpointLSN of the backup (full backups).
	CheckpointLSN LSN
	// DatabaseBackupLSN is the CheckpointLSN of the full backup this one
	// is based on.
	DatabaseBackupLSN LSN
	// FinishedAt is when the backup finished (zero when unknown).
	FinishedAt time.Time
	// IsCopyOnly is true for COPY_ONLY backups.
	IsCopyOnly bool
	// Position is the backup set's number in the file (RESTORE ... WITH
	// FILE = n), from 1; 0 means 1. A file written WITH INIT holds one set;
	// BACKUP without INIT appends sets 2, 3, ... to it.
	Position int
	// ForkID is the recovery fork the backup ends on (HEADERONLY
	// RecoveryForkID, msdb backupset.last_recovery_fork_guid), upper-case;
	// empty when unknown. Every RESTORE ... WITH RECOVERY (a failover)
	// starts a new fork.
	ForkID string
	// FirstForkID is the fork it starts on (FirstRecoveryForkID,
	// first_recovery_fork_guid): another fork than ForkID only for the log
	// backup that spans a fork point.
	FirstForkID string
	// ForkPointLSN is the fork point when FirstForkID differs from ForkID.
	ForkPointLSN LSN
}

// Set returns the backup set's number in the file: Position, or 1 when it
// is not known.
func (f BackupFile) Set() int { return max(f.Position, 1) }

// Name is the file's path and, for a set after the first, its number:
// "/b/x.trn" or "/b/x.trn (FILE = 2)".
func (f BackupFile) Name() string {
	if f.Set() == 1 {
		return f.Path
	}
	return fmt.Sprintf("%s (FILE = %d)", f.Path, f.Set())
}

// String describes the file for messages.
func (f BackupFile) String() string {
	return fmt.Sprintf("%s backup %s of %s [%s, %s)", f.Type, f.Name(), f.Database, f.FirstLSN, f.LastLSN)
}
