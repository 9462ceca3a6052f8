package logshipping

import (
	"testing"
	"time"
)

func TestBackupDue(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var never time.Time
	tests := []struct {
		name              string
		now, full, log    time.Time
		interval          time.Duration
		schedule          string
		wantFull, wantLog bool
	}{
		{"nothing yet", at("2026-01-02T10:00:00Z"), never, never, time.Minute, "0 2 * * *", true, true},
		{"full exists, no log yet", at("2026-01-02T10:00:00Z"), at("2026-01-02T09:00:00Z"), never, time.Minute, "0 2 * * *", false, true},
		{"log interval not passed", at("2026-01-02T10:00:30Z"), at("2026-01-02T09:00:00Z"), at("2026-01-02T10:00:00Z"), time.Minute, "0 2 * * *", false, false},
		{"log interval exactly passed", at("2026-01-02T10:01:00Z"), at("2026-01-02T09:00:00Z"), at("2026-01-02T10:00:00Z"), time.Minute, "0 2 * * *", false, true},
		{"daily full fired since the last full", at("2026-01-03T02:00:00Z"), at("2026-01-02T02:00:05Z"), at("2026-01-03T01:59:30Z"), time.Minute, "0 2 * * *", true, false},
		{"daily full not yet", at("2026-01-03T01:59:59Z"), at("2026-01-02T02:00:05Z"), at("2026-01-03T01:59:30Z"), time.Minute, "0 2 * * *", false, false},
		{"macro @daily", at("2026-01-03T00:00:00Z"), at("2026-01-02T00:00:01Z"), at("2026-01-02T23:59:30Z"), time.Minute, "@daily", true, false},
		{"cron in UTC whatever the input location", at("2026-01-03T02:00:00Z").In(time.FixedZone("X", 5*3600)), at("2026-01-02T02:00:05Z"), never, time.Hour, "0 2 * * *", true, true},
		{"no schedule: full only when none", at("2027-01-01T00:00:00Z"), at("2026-01-02T02:00:05Z"), at("2026-12-31T23:59:00Z"), time.Hour, "", false, false},
		{"zero interval: log always due", at("2026-01-02T10:00:00Z"), at("2026-01-02T09:00:00Z"), at("2026-01-02T10:00:00Z"), 0, "", false, true},
		{"clock before last log", at("2026-01-02T09:59:00Z"), at("2026-01-02T09:00:00Z"), at("2026-01-02T10:00:00Z"), time.Minute, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full, log, err := BackupDue(tt.now, tt.full, tt.log, tt.interval, tt.schedule)
			if err != nil {
				t.Fatal(err)
			}
			if full != tt.wantFull || log != tt.wantLog {
				t.Fatalf("BackupDue = full %t log %t, want full %t log %t", full, log, tt.wantFull, tt.wantLog)
			}
		})
	}
}

func TestBackupDueRejectsInvalidSchedules(t *testing.T) {
	for _, spec := range []string{"61 * * * *", "* * *", "@fortnightly", "0 25 * * *"} {
		if _, _, err := BackupDue(time.Now(), time.Time{}, time.Time{}, time.Minute, spec); err == nil {
			t.Errorf("schedule %q accepted", spec)
		}
	}
}
