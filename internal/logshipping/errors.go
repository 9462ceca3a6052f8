package logshipping

import "errors"

// Sentinel errors, wrapped with context in per-database results; test with
// errors.Is. Server errors keep their classification: use sqlserver.Classify
// on any error returned by this package.
var (
	// ErrDatabaseMissing: a group database does not exist on the instance.
	ErrDatabaseMissing = errors.New("database does not exist")
	// ErrNotWritable: a primary's database is not ONLINE read-write (it is
	// RESTORING, in STANDBY, OFFLINE, ...).
	ErrNotWritable = errors.New("database is not ONLINE read-write")
	// ErrNotRestoring: a standby's database is ONLINE read-write, so no log
	// backup can be applied; it must be reseeded (see Reseed) by a decision
	// of the controller, never automatically.
	ErrNotRestoring = errors.New("database is not restoring (RESTORING or STANDBY)")
	// ErrSimpleRecovery: the database uses the SIMPLE recovery model, which
	// has no log backups, and switching was not allowed.
	ErrSimpleRecovery = errors.New("database uses the SIMPLE recovery model: log backups are impossible")
	// ErrNoFullBackup: the target holds no full backup to seed or reseed a
	// standby from.
	ErrNoFullBackup = errors.New("no full backup in the backup target")
	// ErrOutsideRoot: DeleteFiles was asked to delete a path outside the
	// backup root (or not a backup file).
	ErrOutsideRoot = errors.New("path is outside the backup root or not a backup file")
	// ErrBehind: a planned switchover could not bring the new primary to
	// the old primary's tail: recovering it would lose data.
	ErrBehind = errors.New("new primary is behind the old primary's tail-log backup")
	// ErrUnknownRedo: the standby database's redo point is unknown.
	ErrUnknownRedo = errors.New("redo point of the standby database is unknown")
	// ErrOtherDatabase: a standby's database of a group database's name is
	// another database (SQL Server error 3154); it is not overwritten.
	ErrOtherDatabase = errors.New("the standby's database is another database of the same name")
)

// Reasons of a DatabaseRestoreResult (its Reason field), fit for a
// condition's reason.
const (
	// ReasonForkedDatabase: the standby's database is on another recovery
	// fork than the backups it was given (4330); it is reseeded from a
	// full backup of the current primary.
	ReasonForkedDatabase = "ForkedDatabase"
	// ReasonOtherDatabase: the standby's database is another database of
	// the same name (3154); it is left alone until a human acts.
	ReasonOtherDatabase = "OtherDatabase"
	// ReasonChecksumMissing: restores verify checksums and a backup was
	// taken without (3187); it is not applied, the database is reseeded
	// from a newer full backup.
	ReasonChecksumMissing = "ChecksumMissing"
)
