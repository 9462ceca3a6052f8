package logshipping

import (
	"errors"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

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

// Reasons of a DatabaseRestoreResult (its Reason field), kept for callers of this package (the
// controllers' tests); the values and their documentation live in api/v1alpha1/vocabulary.go
// (reasons of the RestoreSchedule Ready condition), and this package sets those constants.
const (
	// ReasonForkedDatabase is v1alpha1.ReasonRestoreScheduleForkedDatabase (4330).
	ReasonForkedDatabase = v1alpha1.ReasonRestoreScheduleForkedDatabase
	// ReasonOtherDatabase is v1alpha1.ReasonRestoreScheduleOtherDatabase (3154).
	ReasonOtherDatabase = v1alpha1.ReasonRestoreScheduleOtherDatabase
	// ReasonChecksumMissing is v1alpha1.ReasonRestoreScheduleChecksumMissing (3187).
	ReasonChecksumMissing = v1alpha1.ReasonRestoreScheduleChecksumMissing
)
