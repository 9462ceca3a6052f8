package logshipping

import (
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func TestLogWaiting(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	online := func(reuse string) sqlserver.DatabaseState {
		return sqlserver.DatabaseState{Exists: true, State: sqlserver.StateOnline, RecoveryModel: sqlserver.RecoveryFull, LogReuseWait: reuse}
	}
	rec := func(typ sqlserver.BackupType, at time.Time, copyOnly bool) sqlserver.BackupRecord {
		return sqlserver.BackupRecord{BackupFile: sqlserver.BackupFile{Type: typ, FinishedAt: at, IsCopyOnly: copyOnly}}
	}
	limit := 2 * time.Minute
	tests := []struct {
		name    string
		state   sqlserver.DatabaseState
		history []sqlserver.BackupRecord
		want    bool
	}{
		{"log backups keep up", online("LOG_BACKUP"), []sqlserver.BackupRecord{rec(sqlserver.BackupFull, ago(time.Hour), false), rec(sqlserver.BackupLog, ago(time.Minute), false)}, false},
		{"no log backup for 3 intervals", online("LOG_BACKUP"), []sqlserver.BackupRecord{rec(sqlserver.BackupFull, ago(time.Hour), false), rec(sqlserver.BackupLog, ago(3*time.Minute), false)}, true},
		{"a COPY_ONLY log backup truncates nothing", online("LOG_BACKUP"), []sqlserver.BackupRecord{rec(sqlserver.BackupLog, ago(3*time.Minute), false), rec(sqlserver.BackupLog, ago(time.Second), true)}, true},
		{"nothing to truncate", online("NOTHING"), []sqlserver.BackupRecord{rec(sqlserver.BackupLog, ago(time.Hour), false)}, false},
		{"only a full backup, long ago", online("LOG_BACKUP"), []sqlserver.BackupRecord{rec(sqlserver.BackupFull, ago(10*time.Minute), false)}, true},
		{"no backup at all yet", online("LOG_BACKUP"), nil, false},
		{"a standby's database", sqlserver.DatabaseState{Exists: true, State: sqlserver.StateRestoring, LogReuseWait: "LOG_BACKUP"},
			[]sqlserver.BackupRecord{rec(sqlserver.BackupLog, ago(time.Hour), false)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := logWaiting("db", tt.state, tt.history, now, limit); got != tt.want {
				t.Fatalf("logWaiting = %t, want %t", got, tt.want)
			}
		})
	}
}
