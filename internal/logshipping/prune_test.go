package logshipping

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func TestDeleteFilesStaysUnderRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	dbDir := filepath.Join(root, "ns", "g", "sales")
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p string) string {
		t.Helper()
		if err := os.WriteFile(p, []byte("backup"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const name = "20260102T030405Z_37000000001600001.trn"
	victim := write(filepath.Join(outside, name))
	if err := os.Symlink(outside, filepath.Join(root, "ns", "g", "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dbDir, "20260102T030405Z_1.trn")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		refused bool
	}{
		{"a backup file under root", write(filepath.Join(dbDir, name)), false},
		{"a file already gone", filepath.Join(dbDir, "20260102T030406Z_37000000001700001.trn"), false},
		{"outside root", victim, true},
		{"climbing out", filepath.Join(root, "..", filepath.Base(outside), name), true},
		{"relative", filepath.Join("ns", "g", "sales", name), true},
		{"not a backup file", write(filepath.Join(dbDir, "sales.tuf")), true},
		{"root itself", root, true},
		{"through a linked directory", filepath.Join(root, "ns", "g", "escape", name), true},
		{"a link to a file outside", filepath.Join(dbDir, "20260102T030405Z_1.trn"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deleted, err := DeleteFiles(root, []string{tt.path})
			if tt.refused {
				if !errors.Is(err, ErrOutsideRoot) || len(deleted) != 0 {
					t.Fatalf("DeleteFiles(%s) = %v, %v; want refused", tt.path, deleted, err)
				}
				return
			}
			if err != nil || len(deleted) != 1 {
				t.Fatalf("DeleteFiles(%s) = %v, %v", tt.path, deleted, err)
			}
			if _, err := os.Stat(tt.path); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s still exists", tt.path)
			}
		})
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("the file outside root was touched: %v", err)
	}
	if _, err := DeleteFiles("relative/root", nil); err == nil {
		t.Fatal("relative root accepted")
	}
}

func TestPruneKeepsWhatStandbysNeed(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	lsn := sqlserver.MustParseLSN
	file := func(typ sqlserver.BackupType, first, last string, age time.Duration) sqlserver.BackupFile {
		return sqlserver.BackupFile{Path: "/b/" + first + typ.Extension(), Type: typ, Database: "sales",
			FirstLSN: lsn(first), LastLSN: lsn(last), FinishedAt: now.Add(-age)}
	}
	oldFull := file(sqlserver.BackupFull, "100", "110", 96*time.Hour)
	oldLog := file(sqlserver.BackupLog, "105", "200", 95*time.Hour)
	neededLog := file(sqlserver.BackupLog, "200", "300", 94*time.Hour)
	newFull := file(sqlserver.BackupFull, "350", "360", 72*time.Hour)
	newLog := file(sqlserver.BackupLog, "300", "400", 71*time.Hour)
	files := Files{"sales": {oldFull, oldLog, neededLog, newFull, newLog}}
	tests := []struct {
		name   string
		needed map[string]sqlserver.LSN
		want   []string
	}{
		{"no standby", nil, []string{oldFull.Path, oldLog.Path, neededLog.Path}},
		{"a standby at 250: its base full is kept", map[string]sqlserver.LSN{"sales": lsn("250")}, []string{oldLog.Path}},
		{"a standby at 150", map[string]sqlserver.LSN{"sales": lsn("150")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range Prune(files, now, 48*time.Hour, tt.needed) {
				got = append(got, f.Path)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Prune = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("Prune = %v, want %v", got, tt.want)
				}
			}
		})
	}
}
