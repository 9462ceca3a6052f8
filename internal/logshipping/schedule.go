package logshipping

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule says when backups are due: full backups on a cron schedule, log
// backups every LogInterval.
type Schedule struct {
	full        cron.Schedule
	logInterval time.Duration
}

// ParseSchedule parses fullSchedule, a standard 5-field cron expression
// evaluated in UTC or a macro such as @daily (the FailoverGroup's
// logShipping.fullBackupSchedule). An empty fullSchedule means full backups
// are taken only when none exists or one is forced. logInterval <= 0 means a
// log backup is due at every call.
func ParseSchedule(fullSchedule string, logInterval time.Duration) (Schedule, error) {
	s := Schedule{logInterval: logInterval}
	if fullSchedule == "" {
		return s, nil
	}
	sched, err := cron.ParseStandard(fullSchedule)
	if err != nil {
		return Schedule{}, fmt.Errorf("full backup schedule %q: %w", fullSchedule, err)
	}
	s.full = sched
	return s, nil
}

// Due reports whether a full and a log backup are due at now, given when the
// last ones finished (zero: never). A full backup is due when there is none
// or when the cron schedule fired after lastFull; a log backup when there is
// none or logInterval has passed since lastLog.
func (s Schedule) Due(now, lastFull, lastLog time.Time) (full, log bool) {
	switch {
	case lastFull.IsZero():
		full = true
	case s.full != nil:
		full = !s.full.Next(lastFull.UTC()).After(now.UTC())
	}
	log = s.logInterval <= 0 || lastLog.IsZero() || now.Sub(lastLog) >= s.logInterval
	return full, log
}

// BackupDue is ParseSchedule followed by Due: whether a full and a log
// backup are due at now. It fails only for an invalid fullSchedule.
func BackupDue(now, lastFull, lastLog time.Time, logInterval time.Duration, fullSchedule string) (full, log bool, err error) {
	s, err := ParseSchedule(fullSchedule, logInterval)
	if err != nil {
		return false, false, err
	}
	full, log = s.Due(now, lastFull, lastLog)
	return full, log, nil
}
