package sqlserver

import (
	"database/sql"
	"testing"
	"time"
)

func TestServerClock(t *testing.T) {
	instant := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	newYork := serverClock{offset: -5 * time.Hour}
	kolkata := serverClock{offset: 5*time.Hour + 30*time.Minute}
	local := func(s string) sql.NullTime {
		v, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return sql.NullTime{Time: v, Valid: true}
	}
	tests := []struct {
		name  string
		clock serverClock
		wall  string
	}{
		{"UTC", serverClock{}, "2026-12-04 12:00:00"},
		{"negative offset", newYork, "2026-12-04 07:00:00"},
		{"half-hour offset", kolkata, "2026-12-04 17:30:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.clock.toServer(instant); !got.Equal(local(tt.wall).Time) {
				t.Fatalf("toServer = %v, want %s", got, tt.wall)
			}
			if got := tt.clock.fromServer(local(tt.wall)); !got.Equal(instant) {
				t.Fatalf("fromServer(%s) = %v, want %v", tt.wall, got, instant)
			}
		})
	}
	if got := newYork.fromServer(sql.NullTime{}); !got.IsZero() {
		t.Fatalf("fromServer(NULL) = %v, want zero", got)
	}
	// backupset rows carry their own offset: a backup taken in summer (UTC-4) is read right in
	// winter (UTC-5); 127 (unknown) falls back to the server's offset now.
	summer := sql.NullInt64{Int64: -16, Valid: true}
	if got := newYork.fromBackupSet(local("2026-07-01 08:00:00"), summer); !got.Equal(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("fromBackupSet(summer) = %v", got)
	}
	unknown := sql.NullInt64{Int64: timeZoneUnknown, Valid: true}
	if got := newYork.fromBackupSet(local("2026-12-04 07:00:00"), unknown); !got.Equal(instant) {
		t.Fatalf("fromBackupSet(unknown) = %v, want %v", got, instant)
	}
}
