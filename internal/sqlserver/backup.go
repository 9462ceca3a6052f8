package sqlserver

import (
	"context"
	"fmt"
	"strings"
)

// BackupOptions are the WITH options of BACKUP DATABASE and BACKUP LOG.
// Every backup is written WITH INIT: one backup set per file, overwriting
// a file of the same name.
type BackupOptions struct {
	// Compression adds WITH COMPRESSION.
	Compression bool
	// Checksum adds WITH CHECKSUM (verified again by restores WITH
	// CHECKSUM).
	Checksum bool
	// CopyOnly adds WITH COPY_ONLY: the backup does not affect the
	// differential base or the log chain (last_log_backup_lsn).
	CopyOnly bool
	// NoRecovery (BACKUP LOG only) takes a tail-log backup WITH NORECOVERY:
	// it needs exclusive access (KindDatabaseInUse otherwise) and leaves
	// the database RESTORING, so no write can follow the backup.
	NoRecovery bool
}

// withClause renders the WITH options.
func (o BackupOptions) withClause() string {
	opts := []string{"INIT"}
	if o.Compression {
		opts = append(opts, "COMPRESSION")
	}
	if o.Checksum {
		opts = append(opts, "CHECKSUM")
	}
	if o.CopyOnly {
		opts = append(opts, "COPY_ONLY")
	}
	if o.NoRecovery {
		opts = append(opts, "NORECOVERY")
	}
	return " WITH " + strings.Join(opts, ", ")
}

// BackupDatabase takes a full backup of db to path, a file on the server's
// file system. The directory must exist (the server does not create it:
// KindBackupDevice otherwise; see EnsureDirectory).
func (c *Client) BackupDatabase(ctx context.Context, db, path string, opts BackupOptions) error {
	if opts.NoRecovery {
		return fmt.Errorf("backup database %s to %s: NORECOVERY applies to log backups only", db, path)
	}
	quoted, err := quoteDatabase(db)
	if err != nil {
		return fmt.Errorf("backup database: %w", err)
	}
	if err := validateDevicePath(path); err != nil {
		return fmt.Errorf("backup database %s: %w", db, err)
	}
	if err := c.execBackupRestore(ctx, "BACKUP DATABASE "+quoted+" TO DISK = @p1"+opts.withClause(), path); err != nil {
		return fmt.Errorf("backup database %s to %s: %w", db, path, permissionDenied(err, "BACKUP DATABASE "+quoted, needBackup))
	}
	return nil
}

// BackupLog takes a log backup of db to path. The database must use the
// FULL (or BULK_LOGGED) recovery model (KindSimpleRecovery) and have a full
// backup (KindNoFullBackup). With opts.NoRecovery it is a tail-log backup
// that leaves db RESTORING.
func (c *Client) BackupLog(ctx context.Context, db, path string, opts BackupOptions) error {
	quoted, err := quoteDatabase(db)
	if err != nil {
		return fmt.Errorf("backup log: %w", err)
	}
	if err := validateDevicePath(path); err != nil {
		return fmt.Errorf("backup log %s: %w", db, err)
	}
	if err := c.execBackupRestore(ctx, "BACKUP LOG "+quoted+" TO DISK = @p1"+opts.withClause(), path); err != nil {
		return fmt.Errorf("backup log %s to %s: %w", db, path, permissionDenied(err, "BACKUP LOG "+quoted, needBackup))
	}
	return nil
}

// EnsureFullRecovery switches db to the FULL recovery model when it uses
// another one, and returns the model it had before (RecoveryFull when
// nothing changed). After a switch from SIMPLE the log chain starts only
// with the next full backup: BACKUP LOG fails with KindNoFullBackup until
// then.
func (c *Client) EnsureFullRecovery(ctx context.Context, db string) (previous string, err error) {
	quoted, err := quoteDatabase(db)
	if err != nil {
		return "", fmt.Errorf("ensure full recovery: %w", err)
	}
	st, err := c.Database(ctx, db)
	if err != nil {
		return "", fmt.Errorf("ensure full recovery of %s: %w", db, err)
	}
	if !st.Exists {
		return "", fmt.Errorf("ensure full recovery of %s: database does not exist on %s", db, c.Address())
	}
	if st.RecoveryModel == RecoveryFull {
		return RecoveryFull, nil
	}
	if err := c.exec(ctx, "ALTER DATABASE "+quoted+" SET RECOVERY FULL"); err != nil {
		err = permissionDenied(err, "ALTER DATABASE "+quoted+" SET RECOVERY FULL", needAlterDatabase, errNumAlterDatabaseDenied)
		return st.RecoveryModel, fmt.Errorf("ensure full recovery of %s (was %s): %w", db, st.RecoveryModel, err)
	}
	return st.RecoveryModel, nil
}

// maxDevicePathLength is the limit of a backup device name (nvarchar(260)
// in backupmediafamily.physical_device_name).
const maxDevicePathLength = 260

// validateDevicePath checks a backup file path before it is sent (as a
// parameter) to the server.
func validateDevicePath(path string) error {
	if path == "" {
		return fmt.Errorf("backup file path is empty")
	}
	if len([]rune(path)) > maxDevicePathLength {
		return fmt.Errorf("backup file path %q longer than %d characters", path, maxDevicePathLength)
	}
	for _, r := range path {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("backup file path %q contains control character %U", path, r)
		}
	}
	return nil
}
