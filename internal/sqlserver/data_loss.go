package sqlserver

import "time"

// DataLossEstimate estimates, as durations of writes, what a failover at a
// given moment would lose on one standby database.
type DataLossEstimate struct {
	// NotBackedUp is the time since the newest log backup finished on the
	// primary: writes in that window exist only on the primary and are
	// lost if it is lost (unless a tail-log backup can still be taken).
	NotBackedUp time.Duration
	// NotRestored is how far the standby lags behind the newest backup:
	// writes in that window are in backup files the standby has not
	// applied; they are saved only if those files can still be read.
	NotRestored time.Duration
	// Known is false when no backup or no restore is known; the durations
	// are then zero and the loss cannot be bounded.
	Known bool
}

// Worst is the loss if neither the primary nor the unapplied backup files
// survive: NotBackedUp + NotRestored, the age of the data on the standby.
func (e DataLossEstimate) Worst() time.Duration { return e.NotBackedUp + e.NotRestored }

// EstimateDataLoss computes the data-loss window at now for a standby whose
// last restored backup had finished on the primary at lastRestored, when
// the newest backup taken on the primary finished at newestBackup.
// Negative spans (clock skew, a restore newer than the listing) count as 0.
func EstimateDataLoss(now, newestBackup, lastRestored time.Time) DataLossEstimate {
	if newestBackup.IsZero() || lastRestored.IsZero() {
		return DataLossEstimate{}
	}
	return DataLossEstimate{
		NotBackedUp: max(now.Sub(newestBackup), 0),
		NotRestored: max(newestBackup.Sub(lastRestored), 0),
		Known:       true,
	}
}
