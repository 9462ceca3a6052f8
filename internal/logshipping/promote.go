package logshipping

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// PromotedDatabase is the outcome of Promote for one database.
type PromotedDatabase struct {
	Database string
	// AlreadyRecovered: the database was ONLINE read-write before this
	// call (a repeated Promote); nothing was applied.
	AlreadyRecovered bool
	// Applied lists the log backups restored before recovery.
	Applied []string
	// SkippedAlreadyApplied counts files refused with 4326.
	SkippedAlreadyApplied int
	// RedoLSN is the redo point reached before RESTORE WITH RECOVERY.
	RedoLSN sqlserver.LSN
	// Gap is set when the catalogue's chain is broken after RedoLSN: later
	// backups exist but could not be applied (their writes are lost unless
	// the missing file is found).
	Gap *sqlserver.GapError
	// DataLoss is the estimate for this database (see Promote).
	DataLoss sqlserver.DataLossEstimate
}

// PromoteResult is the outcome of Promote.
type PromoteResult struct {
	Databases []PromotedDatabase
	// EstimatedDataLoss is the largest DataLoss.Worst() over the databases:
	// the window of writes on the old primary that the new one does not
	// have. Known is false when some database's restore history is unknown.
	EstimatedDataLoss time.Duration
	Known             bool
}

// Promote makes candidate the primary: for every database it applies every
// log backup of the catalogue not yet restored (no delay: a delayed standby
// that is promoted catches up), then RESTORE ... WITH RECOVERY. It is
// idempotent: a database already ONLINE read-write is left as it is, so a
// Promote repeated after a crash completes the others.
//
// Data loss: lastSeen is when the old primary was last known to accept
// writes (the last successful probe; pass the failover time when unknown).
// Per database, DataLoss = sqlserver.EstimateDataLoss(lastSeen, newest
// backup in the catalogue, newest backup restored here): NotBackedUp is the
// window after the last shipped log backup (writes only the old primary
// had: Salvage may still recover them), NotRestored the span of shipped
// backups that could not be applied (a gap). For a database already
// recovered before this call the estimate is not recomputed.
//
// The error joins the databases that could not be recovered; a gap alone is
// not an error (the controller decides with failover.maxDataLoss).
func Promote(ctx context.Context, candidate *sqlserver.Client, files Files, dbs []string, lastSeen time.Time) (PromoteResult, error) {
	states, err := candidate.Databases(ctx, dbs)
	if err != nil {
		return PromoteResult{}, fmt.Errorf("promote: %w", err)
	}
	res := PromoteResult{Known: true}
	var errs []error
	for _, db := range dbs {
		pd, err := promoteDatabase(ctx, candidate, db, states[db], files[db], lastSeen)
		if err != nil {
			errs = append(errs, err)
		}
		if !pd.AlreadyRecovered {
			res.Known = res.Known && pd.DataLoss.Known
			res.EstimatedDataLoss = max(res.EstimatedDataLoss, pd.DataLoss.Worst())
		}
		res.Databases = append(res.Databases, pd)
	}
	return res, errors.Join(errs...)
}

func promoteDatabase(ctx context.Context, c *sqlserver.Client, db string, st sqlserver.DatabaseState, files []sqlserver.BackupFile, lastSeen time.Time) (PromotedDatabase, error) {
	pd := PromotedDatabase{Database: db}
	switch {
	case !st.Exists:
		return pd, fmt.Errorf("promote %s on %s: %w", db, c.Address(), ErrDatabaseMissing)
	case st.Writable():
		pd.AlreadyRecovered = true
		return pd, nil
	case !st.Restoring():
		return pd, fmt.Errorf("promote %s on %s (%s): %w", db, c.Address(), st.Describe(), ErrNotRestoring)
	}
	rs, err := c.RestoreState(ctx, db)
	if err != nil {
		return pd, fmt.Errorf("promote %s: %w", db, err)
	}
	if rs.RedoLSN.IsZero() {
		return pd, fmt.Errorf("promote %s on %s: %w", db, c.Address(), ErrUnknownRedo)
	}
	apply, gap := sqlserver.PlanLogRestores(rs.RedoLSN, files, time.Time{})
	pd.Gap = gap
	if st.IsInStandby {
		// Readers of the STANDBY database must not block the promotion.
		if _, err := c.DisconnectSessions(ctx, db); err != nil {
			return pd, fmt.Errorf("promote %s: %w", db, err)
		}
	}
	for _, f := range apply {
		err := c.RestoreLog(ctx, db, f.Path, sqlserver.RestoreOptions{Mode: sqlserver.RestoreNoRecovery, File: f.Set()})
		switch {
		case err == nil:
			pd.Applied = append(pd.Applied, f.Name())
		case sqlserver.IsKind(err, sqlserver.KindLogTooEarly):
			pd.SkippedAlreadyApplied++
		default:
			return pd, fmt.Errorf("promote %s: %w", db, err)
		}
	}
	after, err := c.RestoreState(ctx, db)
	if err != nil {
		return pd, fmt.Errorf("promote %s: %w", db, err)
	}
	pd.RedoLSN = after.RedoLSN
	newest, _ := (Files{db: files}).Newest(db)
	pd.DataLoss = sqlserver.EstimateDataLoss(lastSeen, newest.FinishedAt, after.LastRestoredBackupFinishedAt)
	if err := c.Recover(ctx, db); err != nil {
		return pd, fmt.Errorf("promote %s: %w", db, err)
	}
	if err := ensureMultiUser(ctx, c, db); err != nil {
		return pd, fmt.Errorf("promote %s: %w", db, err)
	}
	return pd, nil
}

// CandidatePosition returns the lowest redo LSN across the group's
// databases on a standby: how much data it could serve if promoted, for
// ranking candidates (higher is better). It fails when a database is
// missing, not restoring, or its redo point is unknown: such a member has no
// usable position.
func CandidatePosition(ctx context.Context, standby *sqlserver.Client, dbs []string) (sqlserver.LSN, error) {
	if len(dbs) == 0 {
		return sqlserver.LSN{}, errors.New("candidate position: no databases")
	}
	var lowest sqlserver.LSN
	for i, db := range dbs {
		rs, err := standby.RestoreState(ctx, db)
		if err != nil {
			return sqlserver.LSN{}, fmt.Errorf("candidate position: %w", err)
		}
		switch {
		case !rs.Database.Exists:
			return sqlserver.LSN{}, fmt.Errorf("candidate position of %s: %s: %w", standby.Address(), db, ErrDatabaseMissing)
		case !rs.Database.Restoring():
			return sqlserver.LSN{}, fmt.Errorf("candidate position of %s: %s is %s: %w", standby.Address(), db, rs.Database.Describe(), ErrNotRestoring)
		case rs.RedoLSN.IsZero():
			return sqlserver.LSN{}, fmt.Errorf("candidate position of %s: %s: %w", standby.Address(), db, ErrUnknownRedo)
		}
		if i == 0 || rs.RedoLSN.Less(lowest) {
			lowest = rs.RedoLSN
		}
	}
	return lowest, nil
}
