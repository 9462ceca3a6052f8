package logshipping

import (
	"context"
	"errors"
	"fmt"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// ReadyResult is the state of one database on the primary.
type ReadyResult struct {
	Database string
	// State is sqlserver.DatabaseState.Describe(), e.g. "ONLINE".
	State string
	// RecoveryModel after EnsureReady.
	RecoveryModel string
	// SwitchedFrom is the recovery model the database had when EnsureReady
	// switched it to FULL (empty when nothing changed). The log chain then
	// starts with the next full backup, which RunBackups takes.
	SwitchedFrom string
	// Settings are the database's owner and TRUSTWORTHY on the primary.
	Settings DatabaseSettings
	// Err is why the database cannot be shipped (nil when it can); it wraps
	// ErrDatabaseMissing, ErrNotWritable or ErrSimpleRecovery, or a server
	// error.
	Err error
}

// EnsureReady checks that every database of dbs exists on the primary, is
// ONLINE read-write and uses the FULL (or BULK_LOGGED) recovery model. A
// database in SIMPLE recovery is switched to FULL and reported
// (SwitchedFrom), unless s.KeepRecoveryModel is set: then it is an error
// wrapping ErrSimpleRecovery and nothing is changed. The error joins every
// database's Err, plus any failure to query the instance.
func (s *Shipper) EnsureReady(ctx context.Context, primary *sqlserver.Client, dbs []string) ([]ReadyResult, error) {
	states, err := primary.Databases(ctx, dbs)
	if err != nil {
		return nil, fmt.Errorf("ensure ready: %w", err)
	}
	var results []ReadyResult
	var errs []error
	for _, db := range dbs {
		st := states[db]
		r := ReadyResult{Database: db, State: st.Describe(), RecoveryModel: st.RecoveryModel,
			Settings: DatabaseSettings{Owner: st.Owner, Trustworthy: st.Trustworthy}}
		switch {
		case !st.Exists:
			r.Err = fmt.Errorf("database %s on %s: %w", db, primary.Address(), ErrDatabaseMissing)
		case !st.Writable():
			r.Err = fmt.Errorf("database %s on %s is %s: %w", db, primary.Address(), st.Describe(), ErrNotWritable)
		case st.RecoveryModel == sqlserver.RecoverySimple && s.KeepRecoveryModel:
			r.Err = fmt.Errorf("database %s on %s: %w (spec.logShipping.keepRecoveryModel is set, so the operator leaves it: set the FULL recovery model)",
				db, primary.Address(), ErrSimpleRecovery)
		case st.RecoveryModel == sqlserver.RecoverySimple:
			previous, err := primary.EnsureFullRecovery(ctx, db)
			if err != nil {
				r.Err = err
				break
			}
			r.SwitchedFrom, r.RecoveryModel = previous, sqlserver.RecoveryFull
		}
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
		results = append(results, r)
	}
	return results, errors.Join(errs...)
}
