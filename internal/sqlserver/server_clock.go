package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SQL Server writes datetime values in its machine's time zone (on Linux the container's TZ):
// msdb's backup_start_date, backup_finish_date and restore_date, and the dates of RESTORE
// HEADERONLY. datetime has no offset, so the operator converts: backupset rows by their own
// time_zone column (15-minute units, 127 unknown), everything else by the server's offset now.

// timeZoneUnknown is backupset.time_zone when SQL Server did not know the offset.
const timeZoneUnknown = 127

// serverClock converts between instants and one server's local datetime values.
type serverClock struct {
	// offset is local time minus UTC on the server (e.g. -5h in New York in winter).
	offset time.Duration
}

// serverClock reads the server's UTC offset: GETDATE() - GETUTCDATE(), rounded to 15 minutes
// (every zone's offset is a multiple of it; the rounding absorbs the instants between the two
// calls).
func (c *Client) serverClock(ctx context.Context) (serverClock, error) {
	var local, utc sql.NullTime
	err := c.query(ctx, func(r *sql.Rows) error { return r.Scan(&local, &utc) }, `SELECT GETDATE(), GETUTCDATE()`)
	if err != nil {
		return serverClock{}, fmt.Errorf("time zone of %s: %w", c.Address(), err)
	}
	if !local.Valid || !utc.Valid {
		return serverClock{}, fmt.Errorf("time zone of %s: GETDATE() or GETUTCDATE() is NULL", c.Address())
	}
	return serverClock{offset: wallClock(local.Time).Sub(wallClock(utc.Time)).Round(15 * time.Minute)}, nil
}

// toServer is the instant t as the server's datetime (a parameter compared with msdb's dates).
func (k serverClock) toServer(t time.Time) time.Time {
	return wallClock(t.UTC().Add(k.offset))
}

// fromServer is the instant of a datetime value the server wrote (zero for NULL).
func (k serverClock) fromServer(v sql.NullTime) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return wallClock(v.Time).Add(-k.offset)
}

// instant is fromServer for a value already read (zero stays zero).
func (k serverClock) instant(v time.Time) time.Time {
	return k.fromServer(sql.NullTime{Time: v, Valid: !v.IsZero()})
}

// fromBackupSet is the instant of a msdb.dbo.backupset date: by the row's time_zone (the offset
// when the backup ran, right across a daylight-saving change) or, when that is unknown, by k.
func (k serverClock) fromBackupSet(v sql.NullTime, zone sql.NullInt64) time.Time {
	if zone.Valid && zone.Int64 != timeZoneUnknown && zone.Int64 >= -48 && zone.Int64 <= 48 {
		return serverClock{offset: time.Duration(zone.Int64) * 15 * time.Minute}.fromServer(v)
	}
	return k.fromServer(v)
}

// wallClock is v's wall clock as a UTC-labelled time (the driver's datetime values carry no zone).
func wallClock(v time.Time) time.Time {
	return time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
}
