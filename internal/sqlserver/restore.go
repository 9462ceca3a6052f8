package sqlserver

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// RestoreMode is the state a restore leaves the database in.
type RestoreMode int

// Restore modes. The zero value is RestoreNoRecovery, so a forgotten mode
// never ends log shipping by recovering the database.
const (
	// RestoreNoRecovery leaves the database RESTORING (not readable); more
	// log backups can be applied.
	RestoreNoRecovery RestoreMode = iota
	// RestoreStandby leaves the database ONLINE, read-only, in STANDBY;
	// more log backups can be applied. Needs RestoreOptions.UndoFile.
	RestoreStandby
	// RestoreRecovery recovers the database: ONLINE read-write, and no
	// further log backup of the old chain can be applied.
	RestoreRecovery
)

// String returns "NoRecovery", "Standby" or "Recovery".
func (m RestoreMode) String() string {
	switch m {
	case RestoreNoRecovery:
		return "NoRecovery"
	case RestoreStandby:
		return "Standby"
	case RestoreRecovery:
		return "Recovery"
	}
	return fmt.Sprintf("RestoreMode(%d)", int(m))
}

// RestoreOptions are the WITH options of RESTORE DATABASE and RESTORE LOG.
type RestoreOptions struct {
	// Mode: NoRecovery (default), Standby or Recovery.
	Mode RestoreMode
	// UndoFile is the STANDBY undo file on the server's file system
	// (Standby mode only). It must still exist at the next restore.
	UndoFile string
	// Replace adds WITH REPLACE (RESTORE DATABASE only): overwrite another
	// database or an unsaved log tail. KindBackupOfOtherDatabase and
	// KindTailNotBackedUp tell when it is needed.
	Replace bool
	// Move relocates database files: logical name -> physical path
	// (RESTORE DATABASE only). See Client.MoveToDefaultPaths.
	Move map[string]string
	// Checksum adds WITH CHECKSUM: verify the backup checksums.
	Checksum bool
	// File is the backup set to restore (WITH FILE = n, sent as an integer
	// parameter): BackupFile.Set() of a catalogued set. 0 restores the
	// first set, as SQL Server does without the option.
	File int
}

// validate checks the options for RESTORE DATABASE (full) or RESTORE LOG.
func (o RestoreOptions) validate(full bool) error {
	switch o.Mode {
	case RestoreNoRecovery, RestoreRecovery:
		if o.UndoFile != "" {
			return fmt.Errorf("an undo file applies to STANDBY restores only (mode %s)", o.Mode)
		}
	case RestoreStandby:
		if err := validateDevicePath(o.UndoFile); err != nil {
			return fmt.Errorf("standby undo file: %w", err)
		}
	default:
		return fmt.Errorf("unknown restore mode %d", int(o.Mode))
	}
	if o.File != 0 {
		if err := validateSetPosition(o.File); err != nil {
			return err
		}
	}
	if !full && (o.Replace || len(o.Move) > 0) {
		return fmt.Errorf("REPLACE and MOVE apply to RESTORE DATABASE only")
	}
	for logical, physical := range o.Move {
		if err := validateIdentifier(logical); err != nil {
			return fmt.Errorf("MOVE logical file: %w", err)
		}
		if err := validateDevicePath(physical); err != nil {
			return fmt.Errorf("MOVE %s: %w", logical, err)
		}
	}
	return nil
}

// withClause renders the WITH options; the backup file is @p1 and the
// other values follow as @p2, @p3, ... in args.
func (o RestoreOptions) withClause(args []any) (string, []any) {
	var opts []string
	if o.File > 0 {
		args = append(args, int64(o.File))
		opts = append(opts, fmt.Sprintf("FILE = @p%d", len(args)))
	}
	switch o.Mode {
	case RestoreNoRecovery:
		opts = append(opts, "NORECOVERY")
	case RestoreRecovery:
		opts = append(opts, "RECOVERY")
	case RestoreStandby:
		args = append(args, o.UndoFile)
		opts = append(opts, fmt.Sprintf("STANDBY = @p%d", len(args)))
	}
	if o.Replace {
		opts = append(opts, "REPLACE")
	}
	if o.Checksum {
		opts = append(opts, "CHECKSUM")
	}
	logicals := make([]string, 0, len(o.Move))
	for l := range o.Move {
		logicals = append(logicals, l)
	}
	sort.Strings(logicals)
	for _, l := range logicals {
		args = append(args, l, o.Move[l])
		opts = append(opts, fmt.Sprintf("MOVE @p%d TO @p%d", len(args)-1, len(args)))
	}
	return " WITH " + strings.Join(opts, ", "), args
}

// RestoreDatabase restores the full backup at path (set opts.File) into db
// (created when missing). Other sessions in db make it fail with KindDatabaseInUse: see
// SetSingleUser and DisconnectSessions.
func (c *Client) RestoreDatabase(ctx context.Context, db, path string, opts RestoreOptions) error {
	quoted, err := quoteDatabase(db)
	if err != nil {
		return fmt.Errorf("restore database: %w", err)
	}
	if err := validateDevicePath(path); err != nil {
		return fmt.Errorf("restore database %s: %w", db, err)
	}
	if err := opts.validate(true); err != nil {
		return fmt.Errorf("restore database %s from %s: %w", db, path, err)
	}
	with, args := opts.withClause([]any{path})
	if err := c.execBackupRestore(ctx, "RESTORE DATABASE "+quoted+" FROM DISK = @p1"+with, args...); err != nil {
		return fmt.Errorf("restore database %s from %s (%s): %w", db, path, opts.Mode, permissionDenied(err, "RESTORE DATABASE "+quoted, needDBCreator))
	}
	return nil
}

// RestoreLog applies the log backup at path (set opts.File) to db, which must be RESTORING
// or in STANDBY (KindNotRestoring otherwise). A file that does not continue
// the chain fails with KindLogTooRecent (a gap) or KindLogTooEarly
// (already applied); PlanLogRestores avoids both.
func (c *Client) RestoreLog(ctx context.Context, db, path string, opts RestoreOptions) error {
	quoted, err := quoteDatabase(db)
	if err != nil {
		return fmt.Errorf("restore log: %w", err)
	}
	if err := validateDevicePath(path); err != nil {
		return fmt.Errorf("restore log %s: %w", db, err)
	}
	if err := opts.validate(false); err != nil {
		return fmt.Errorf("restore log %s from %s: %w", db, path, err)
	}
	with, args := opts.withClause([]any{path})
	if err := c.execBackupRestore(ctx, "RESTORE LOG "+quoted+" FROM DISK = @p1"+with, args...); err != nil {
		return fmt.Errorf("restore log %s from %s (%s): %w", db, path, opts.Mode, permissionDenied(err, "RESTORE LOG "+quoted, needDBCreator))
	}
	return nil
}

// Recover brings a RESTORING or STANDBY database online read-write with
// RESTORE DATABASE ... WITH RECOVERY (the last step of a promotion). It is
// idempotent: a database that is already recovered is not an error.
func (c *Client) Recover(ctx context.Context, db string) error {
	quoted, err := quoteDatabase(db)
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	err = c.execBackupRestore(ctx, "RESTORE DATABASE "+quoted+" WITH RECOVERY")
	if err != nil && Classify(err) != KindAlreadyRecovered {
		return fmt.Errorf("recover database %s: %w", db, permissionDenied(err, "RESTORE DATABASE "+quoted+" WITH RECOVERY", needDBCreator))
	}
	return nil
}

// MoveToDefaultPaths computes RestoreOptions.Move for restoring the backup
// at path as db on this instance: every file goes to the instance's default
// data or log directory, named after db (db.mdf, db_log.ldf, and
// db_<logical>.ndf / .ldf for further files), so a database can be seeded
// on a server whose directories differ from the primary's.
func (c *Client) MoveToDefaultPaths(ctx context.Context, db, path string) (map[string]string, error) {
	return c.MoveToDefaultPathsAt(ctx, db, path, 1)
}

// MoveToDefaultPathsAt is MoveToDefaultPaths for backup set position of
// the file (RESTORE FILELISTONLY ... WITH FILE = position).
func (c *Client) MoveToDefaultPathsAt(ctx context.Context, db, path string, position int) (map[string]string, error) {
	if err := ValidateDatabaseName(db); err != nil {
		return nil, fmt.Errorf("move to default paths: %w", err)
	}
	dirs, err := c.DefaultPaths(ctx)
	if err != nil {
		return nil, fmt.Errorf("move %s to default paths: %w", db, err)
	}
	files, err := c.FileListAt(ctx, path, position)
	if err != nil {
		return nil, fmt.Errorf("move %s to default paths: %w", db, err)
	}
	return planMoves(db, dirs, files)
}

// planMoves maps each backup file to a physical path in dirs.
func planMoves(db string, dirs DefaultPaths, files []BackupFileEntry) (map[string]string, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("backup lists no database files")
	}
	moves := make(map[string]string, len(files))
	used := map[string]string{}
	firstData, firstLog := true, true
	for _, f := range files {
		var dir, name string
		switch f.Type {
		case "L":
			dir = dirs.Log
			if firstLog {
				name, firstLog = db+"_log.ldf", false
			} else {
				name = db + "_" + f.LogicalName + ".ldf"
			}
		case "D":
			dir = dirs.Data
			if firstData {
				name, firstData = db+".mdf", false
			} else {
				name = db + "_" + f.LogicalName + ".ndf"
			}
		default:
			return nil, fmt.Errorf("file %s has type %q; only data (D) and log (L) files are supported", f.LogicalName, f.Type)
		}
		if strings.ContainsAny(f.LogicalName, `/\:*?"<>|`) {
			return nil, fmt.Errorf("logical file name %q cannot be used in a file name", f.LogicalName)
		}
		physical := joinServerPath(dir, name)
		if other, dup := used[strings.ToLower(physical)]; dup {
			return nil, fmt.Errorf("files %s and %s would both move to %s", other, f.LogicalName, physical)
		}
		used[strings.ToLower(physical)] = f.LogicalName
		moves[f.LogicalName] = physical
	}
	return moves, nil
}

// joinServerPath joins a directory reported by the server with a file
// name, using the server's separator (backslash on Windows paths).
func joinServerPath(dir, name string) string {
	sep := "/"
	if strings.Contains(dir, `\`) && !strings.Contains(dir, "/") {
		sep = `\`
	}
	if strings.HasSuffix(dir, sep) {
		return dir + name
	}
	return dir + sep + name
}
