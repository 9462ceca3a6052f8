package logshipping

import (
	"time"
)

// Shipper runs the primary side of log shipping for one group: backups into
// its Target, the catalogue of those backups, and the SQL steps of a planned
// switchover and of salvaging an old primary. Keep one per group (the
// Catalogue caches backup headers); its methods are safe for concurrent
// use on different groups' Shippers, and idempotent.
type Shipper struct {
	Target Target
	// Schedule says when full and log backups are due.
	Schedule Schedule
	// KeepRecoveryModel makes EnsureReady report a database in SIMPLE
	// recovery (ErrSimpleRecovery) instead of switching it to FULL.
	KeepRecoveryModel bool
	// Catalogue caches backup headers; NewShipper creates it.
	Catalogue *Catalogue
	// cleaned is how far CleanHistory deleted each member's msdb history.
	cleaned historyCleaned
}

// NewShipper validates the target and schedule (fullSchedule: cron or
// macro, see ParseSchedule) and returns a Shipper with an empty catalogue.
func NewShipper(target Target, fullSchedule string, logInterval time.Duration) (*Shipper, error) {
	if err := target.Validate(); err != nil {
		return nil, err
	}
	sched, err := ParseSchedule(fullSchedule, logInterval)
	if err != nil {
		return nil, err
	}
	return &Shipper{Target: target, Schedule: sched, Catalogue: NewCatalogue()}, nil
}

func (s *Shipper) catalogue() *Catalogue {
	if s.Catalogue == nil {
		// A zero Shipper still works, without reuse of headers across calls.
		return NewCatalogue()
	}
	return s.Catalogue
}
