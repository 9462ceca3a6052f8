package logshipping

import (
	"errors"
	"fmt"
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

// history is a database's catalogue from start to end: a full backup every
// fullEvery and a log backup every logEvery, each finishing 5 s after the
// time in its name, all on one recovery fork.
func history(t *testing.T, target Target, db string, start, end time.Time, fullEvery, logEvery time.Duration) []sqlserver.BackupFile {
	t.Helper()
	var out []sqlserver.BackupFile
	lsn := int64(1000)
	for at := start; at.Before(end); at = at.Add(logEvery) {
		typ := sqlserver.BackupLog
		if at.Sub(start)%fullEvery == 0 {
			typ = sqlserver.BackupFull
		}
		first := sqlserver.MustParseLSN(fmt.Sprint(lsn))
		p, err := sqlserver.BackupPath(target.Root, target.Namespace, target.Group, db, at, first, typ)
		if err != nil {
			t.Fatal(err)
		}
		f := sqlserver.BackupFile{Path: p, Type: typ, Database: db, FirstLSN: first,
			LastLSN: sqlserver.MustParseLSN(fmt.Sprint(lsn + 100)), FinishedAt: at.Add(5 * time.Second), ForkID: "F1", FirstForkID: "F1", Position: 1}
		if typ == sqlserver.BackupFull {
			f.FirstLSN = sqlserver.MustParseLSN(fmt.Sprint(lsn + 50))
		} else {
			lsn += 100
		}
		out = append(out, f)
	}
	return out
}

// checkExpiry asserts the plan's bound separates what retention decided.
func checkExpiry(t *testing.T, target Target, files Files, plan []Expiry, now time.Time, retention time.Duration, needed map[string]sqlserver.LSN) {
	t.Helper()
	for db, list := range files {
		dir, _ := target.Dir(db)
		var before time.Time
		for _, e := range plan {
			if e.Dir == dir {
				before = e.Before
			}
		}
		if before.After(now.Add(-retention)) {
			t.Fatalf("%s: bound %v after the retention cutoff %v", db, before, now.Add(-retention))
		}
		for _, d := range sqlserver.DecidePrune(list, now, retention, needed) {
			for _, f := range d.Keep {
				if nt, ok := nameTime(dir, f.Path); ok && nt.Before(before) {
					t.Fatalf("%s: %s must stay but is named before the bound %v", db, f.Path, before)
				}
			}
		}
	}
}

func TestPlanExpiryStaysBoundedWhateverTheHistory(t *testing.T) {
	target := Target{Root: "/backups", Namespace: "db", Group: "sales"}
	retention := 48 * time.Hour
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, days := range []int{3, 30} {
		now := start.Add(time.Duration(days) * 24 * time.Hour)
		files := Files{
			"Sales": history(t, target, "Sales", start, now, 24*time.Hour, time.Minute),
			"Hr":    history(t, target, "Hr", start, now, 24*time.Hour, time.Minute),
		}
		if n := len(files["Sales"]); n < days*1440 {
			t.Fatalf("%d files for %d days", n, days)
		}
		for _, needed := range []map[string]sqlserver.LSN{nil, {"Sales": files["Sales"][len(files["Sales"])-3000].LastLSN}} {
			plan, err := PlanExpiry(target, files, now, retention, needed)
			if err != nil {
				t.Fatal(err)
			}
			want := 2 // one bound per database, whatever the length of the history
			if days == 3 && needed != nil {
				want = 1 // Sales' standby needs everything from the first full backup on
			}
			if len(plan) != want {
				t.Fatalf("%d days, needed %v: plan %v, want %d bounds", days, needed, plan, want)
			}
			checkExpiry(t, target, files, plan, now, retention, needed)
			if needed != nil {
				// The standby's redo point 3000 minutes back holds Sales' bound
				// at the full backup its logs are based on.
				salesDir, _ := target.Dir("Sales")
				for _, e := range plan {
					if e.Dir == salesDir && now.Sub(e.Before) < 3000*time.Minute {
						t.Fatalf("%d days: Sales' bound %v is newer than the standby's position", days, e.Before)
					}
				}
			}
		}
	}
}

func TestPlanExpiryNothingToDo(t *testing.T) {
	target := Target{Root: "/backups", Namespace: "db", Group: "sales"}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start.Add(24 * time.Hour)
	files := Files{"Sales": history(t, target, "Sales", start, now, 24*time.Hour, time.Hour)}
	if plan, err := PlanExpiry(target, files, now, 48*time.Hour, nil); err != nil || len(plan) != 0 {
		t.Fatalf("everything within retention: %v, %v", plan, err)
	}
	if plan, err := PlanExpiry(target, files, now.Add(72*time.Hour), 48*time.Hour, map[string]sqlserver.LSN{"Sales": {}}); err != nil || len(plan) != 0 {
		t.Fatalf("a standby with no known position: %v, %v", plan, err)
	}
}

func TestExpiryString(t *testing.T) {
	e := Expiry{Dir: "/b/ns/g/a=b", Before: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	got, err := ParseExpiry(e.String())
	if err != nil || got != e {
		t.Fatalf("ParseExpiry(%q) = %v, %v", e.String(), got, err)
	}
	for _, bad := range []string{"", "/b/x", "=2026-01-02T03:04:05Z", "/b/x=yesterday"} {
		if _, err := ParseExpiry(bad); err == nil {
			t.Errorf("ParseExpiry(%q) accepted", bad)
		}
	}
}

// The Job's side: it lists the directory, so it deletes only what exists
// (msdb keeps files deleted long ago) and what the plan's bound allows.
func TestPlanAndExpireDeleteOnlyWhatRetentionAllows(t *testing.T) {
	root := t.TempDir()
	target := Target{Root: root, Namespace: "ns", Group: "g"}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start.Add(4 * 24 * time.Hour)
	retention := 24 * time.Hour
	files := Files{"sales": history(t, target, "sales", start, now, 24*time.Hour, time.Hour)}
	dir, _ := target.Dir("sales")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p string, mtime time.Time) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("backup"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range files["sales"] {
		if i < 10 {
			continue // deleted long ago, still in msdb's history
		}
		write(f.Path, f.FinishedAt)
	}
	// A file the catalogue does not know, a salvage file, a file appended to
	// just now, and a file that is not a backup.
	unknown := filepath.Join(dir, "20260101T003000Z_5.trn")
	write(unknown, start)
	salvage, _ := sqlserver.SalvagePath(root, "ns", "g", "sales", start, sqlserver.MustParseLSN("7"), sqlserver.BackupLog)
	write(salvage, start)
	appended := files["sales"][20].Path
	write(appended, now)
	other := filepath.Join(dir, "sales.tuf")
	write(other, start)

	needed := map[string]sqlserver.LSN{"sales": files["sales"][60].LastLSN} // a standby 2.5 days back
	plan, err := PlanExpiry(target, files, now, retention, needed)
	if err != nil || len(plan) != 1 {
		t.Fatalf("plan %v, %v", plan, err)
	}
	checkExpiry(t, target, files, plan, now, retention, needed)
	deleted, err := ExpireFiles(root, plan, now.Add(-retention))
	if err != nil {
		t.Fatal(err)
	}
	if len(deleted) == 0 {
		t.Fatal("nothing deleted")
	}
	decision := sqlserver.DecidePrune(files["sales"], now, retention, needed)[0]
	for _, f := range decision.Keep {
		if _, err := os.Stat(f.Path); err != nil && f.Path != appended {
			t.Fatalf("%s must stay: %v", f.Path, err)
		}
	}
	for _, p := range []string{salvage, appended, other} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s was deleted", p)
		}
	}
	if _, err := os.Stat(unknown); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an unknown file older than every file that must stay is still there: %v", err)
	}
	for _, p := range deleted {
		if nt, _, _, err := sqlserver.ParseBackupFileName(p); err != nil || !nt.Before(plan[0].Before) {
			t.Fatalf("deleted %s, named at or after the bound %v", p, plan[0].Before)
		}
	}
	// Run again: nothing left to delete, no error.
	if again, err := ExpireFiles(root, plan, now.Add(-retention)); err != nil || len(again) != 0 {
		t.Fatalf("second run: %v, %v", again, err)
	}
}

func TestExpireFilesRefusesWhatIsNotADatabaseDirectory(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	before := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	victim := filepath.Join(outside, "20260102T030405Z_1.trn")
	if err := os.WriteFile(victim, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "ns", "g"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "ns", "g", "linked")); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{
		root, filepath.Join(root, "ns"), filepath.Join(root, "ns", "g"),
		filepath.Join(root, "ns", "g", "salvage", "sales"), // a salvage directory
		outside, filepath.Join(root, "..", "x", "y", "z"), "ns/g/sales",
		filepath.Join(root, "ns", "g", "linked"), // a link out of the volume
	} {
		_, err := ExpireFiles(root, []Expiry{{Dir: dir, Before: before}}, before)
		if !errors.Is(err, ErrOutsideRoot) {
			t.Errorf("ExpireFiles in %s: %v, want refused", dir, err)
		}
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("the file outside root was touched: %v", err)
	}
	if _, err := ExpireFiles(root, nil, time.Time{}); err == nil {
		t.Error("no modification bound accepted")
	}
	if d, err := ExpireFiles(root, []Expiry{{Dir: filepath.Join(root, "ns", "g", "missing"), Before: before}}, before); err != nil || len(d) != 0 {
		t.Errorf("a missing directory: %v, %v", d, err)
	}
}
