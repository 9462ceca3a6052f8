package mssqlsim

import (
	"fmt"
	"time"
)

// SQL Server keeps datetime values (GETDATE(), msdb's backup and restore dates, the dates in a
// backup's header, create_date columns) in the time zone of the machine, on Linux the container's
// TZ. datetime carries no offset; msdb.dbo.backupset.time_zone records it, in 15-minute units. The
// simulator stores every instant in UTC and shows it in the instance's zone where SQL Server does.

// timeZoneUnknown is backupset.time_zone when the offset is not known.
const timeZoneUnknown = 127

// loadTimeZone resolves Options.TimeZone: an IANA name as TZ takes it ("Europe/Berlin",
// "America/New_York"); empty or "UTC" is UTC.
func loadTimeZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}

// offsetAt is the instance's UTC offset at t, in seconds east of UTC.
func (in *instance) offsetAt(t time.Time) int {
	loc := in.location
	if loc == nil {
		loc = time.UTC
	}
	_, off := t.In(loc).Zone()
	return off
}

// local is t as the instance shows it: its wall clock in the instance's zone, as a datetime
// without offset (encoded as is).
func (in *instance) local(t time.Time) time.Time {
	return wallClock(t, in.offsetAt(t))
}

// wallClock is t shifted by offset seconds, as a value without zone (UTC-labelled, which is how
// datetime values are encoded).
func wallClock(t time.Time, offset int) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Add(time.Duration(offset) * time.Second)
}

// timeZoneUnits is backupset.time_zone for an offset in seconds: 15-minute units, -48..+48 (56
// for +14:00 is outside that range, and so unknown as in msdb).
func timeZoneUnits(offset int) int64 {
	units := offset / 900
	if offset%900 != 0 || units < -48 || units > 48 {
		return timeZoneUnknown
	}
	return int64(units)
}
