package logshipping

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// These tests pin rules of the catalogue and of pruning that the other tests left open: each was
// found by flipping one comparison or boolean operator (make mutate) and seeing no test fail.

var pinBase = time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)

func pinPaths(files []sqlserver.BackupFile) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Name()
	}
	return out
}

// pinSet is a backup set of db named by its minute after pinBase and first LSN, finishing 5 s
// after the time in its name.
func pinSet(t *testing.T, target Target, db string, minute int, first, last int64, typ sqlserver.BackupType) sqlserver.BackupFile {
	t.Helper()
	at := pinBase.Add(time.Duration(minute) * time.Minute)
	p, err := sqlserver.BackupPath(target.Root, target.Namespace, target.Group, db, at, sqlserver.MustParseLSN(fmt.Sprint(first)), typ)
	if err != nil {
		t.Fatal(err)
	}
	return sqlserver.BackupFile{Path: p, Type: typ, Database: db, Position: 1,
		FirstLSN: sqlserver.MustParseLSN(fmt.Sprint(first)), LastLSN: sqlserver.MustParseLSN(fmt.Sprint(last)), FinishedAt: at.Add(5 * time.Second)}
}

func TestFilesNewestPins(t *testing.T) {
	target := Target{Root: "/backups", Namespace: "ns", Group: "g"}
	older := pinSet(t, target, "sales", 0, 100, 200, sqlserver.BackupLog)
	newer := pinSet(t, target, "sales", 10, 200, 300, sqlserver.BackupLog)
	tests := []struct {
		name      string
		files     Files
		want      string
		wantFound bool
	}{
		{name: "the newest backup is the one that finished last, whatever the listing order",
			files: Files{"sales": {newer, older}}, want: newer.Path, wantFound: true},
		{name: "the newest backup is the one that finished last, also listed last",
			files: Files{"sales": {older, newer}}, want: newer.Path, wantFound: true},
		{name: "a database without backups has no newest one",
			files: Files{"stock": {older}}, wantFound: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := tt.files.Newest("sales")
			if found != tt.wantFound || got.Path != tt.want {
				t.Fatalf("Newest = %q, %v; want %q, %v", got.Path, found, tt.want, tt.wantFound)
			}
		})
	}
}

func TestMergeBySetOrderPins(t *testing.T) {
	target := Target{Root: "/backups", Namespace: "ns", Group: "g"}
	// Finished first but with the higher FirstLSN.
	early := pinSet(t, target, "sales", 0, 500, 600, sqlserver.BackupFull)
	late := pinSet(t, target, "sales", 10, 100, 200, sqlserver.BackupLog)
	// Two sets that finished in the same second: the lower FirstLSN first, whatever the set numbers.
	sameSecondLow := pinSet(t, target, "sales", 20, 200, 300, sqlserver.BackupLog)
	sameSecondLow.Position = 2
	sameSecondHigh := pinSet(t, target, "sales", 20, 300, 400, sqlserver.BackupLog)
	sameSecondHigh.Path += ".other"
	sameSecondHigh.FinishedAt = sameSecondLow.FinishedAt
	tests := []struct {
		name string
		a, b []sqlserver.BackupFile
		want []sqlserver.BackupFile
	}{
		{name: "merged sets are ordered by finish time before FirstLSN",
			a: []sqlserver.BackupFile{late}, b: []sqlserver.BackupFile{early}, want: []sqlserver.BackupFile{early, late}},
		{name: "sets that finished at the same time are ordered by FirstLSN before set number",
			a: []sqlserver.BackupFile{sameSecondHigh}, b: []sqlserver.BackupFile{sameSecondLow}, want: []sqlserver.BackupFile{sameSecondLow, sameSecondHigh}},
		{name: "a set both lists hold appears once",
			a: []sqlserver.BackupFile{early, late}, b: []sqlserver.BackupFile{late}, want: []sqlserver.BackupFile{early, late}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mergeBySet(tt.a, tt.b); fmt.Sprint(pinPaths(got)) != fmt.Sprint(pinPaths(tt.want)) {
				t.Fatalf("mergeBySet = %v, want %v", pinPaths(got), pinPaths(tt.want))
			}
		})
	}
}

func TestCatalogueHeaderCachePins(t *testing.T) {
	// No SQL Server: a header that is not taken from the cache cannot be read, and the file is
	// reported unreadable.
	ctx := context.Background()
	setup := func(t *testing.T) (*Catalogue, Target, []sqlserver.BackupFile, string) {
		t.Helper()
		target := Target{Root: "/backups", LocalRoot: t.TempDir(), Namespace: "ns", Group: "g"}
		set1 := pinSet(t, target, "sales", 0, 100, 200, sqlserver.BackupLog)
		set2 := set1
		set2.Position, set2.FirstLSN, set2.LastLSN = 2, set1.LastLSN, sqlserver.MustParseLSN("300")
		local := target.toLocal(set1.Path)
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(local, []byte("two backup sets"), 0o600); err != nil {
			t.Fatal(err)
		}
		c := NewCatalogue()
		c.Remember(target, set1, set2)
		return c, target, []sqlserver.BackupFile{set1, set2}, local
	}
	t.Run("a file remembered after it was written is listed without reading its header again", func(t *testing.T) {
		c, target, sets, _ := setup(t)
		files, bad, err := c.List(ctx, nil, target, "sales")
		if err != nil || len(bad) != 0 || fmt.Sprint(pinPaths(files)) != fmt.Sprint(pinPaths(sets)) {
			t.Fatalf("List = %v, bad %v, %v; want %v from the cache", pinPaths(files), bad, err, pinPaths(sets))
		}
	})
	t.Run("a remembered file that grew is read again, even when its modification time did not change", func(t *testing.T) {
		c, target, sets, local := setup(t)
		info, err := os.Stat(local)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(local, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(", and a third"); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(local, info.ModTime(), info.ModTime()); err != nil {
			t.Fatal(err)
		}
		files, bad, err := c.List(ctx, nil, target, "sales")
		if err != nil || len(files) != 0 || len(bad) != 1 || bad[0].Path != sets[0].Path {
			t.Fatalf("List = %v, bad %v, %v; want the grown file read again (and unreadable without a server)", pinPaths(files), bad, err)
		}
	})
}

// The operator cannot see the volume: what it read from the old primary's history must serve every
// database's promotion, also when the promotion is tried again (an interrupted failover resumes).
func TestForPromotionRemembersEveryDatabaseAlsoWhenRetried(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroupSeeing(t, false)
	dbs := []string{"sales", "stock"}
	for _, db := range dbs {
		createDB(t, primary, db)
		insert(t, primary, db, 2)
	}
	g.backup(t, primary, dbs, nil)
	listed := g.files(t, primary, dbs) // each database's history read in turn through the primary
	for _, db := range dbs {
		if len(listed[db]) == 0 {
			t.Fatalf("%s: no backups listed from the primary's history", db)
		}
	}
	ctx := testContext(t)
	for attempt := 1; attempt <= 2; attempt++ {
		files, _, err := g.shipper.Catalogue.ForPromotion(ctx, standby.client, g.shipper.Target, dbs)
		if err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		for _, db := range dbs {
			if fmt.Sprint(pinPaths(files[db])) != fmt.Sprint(pinPaths(listed[db])) {
				t.Fatalf("attempt %d: %s: promotion catalogue %v, want the old primary's backups %v", attempt, db, pinPaths(files[db]), pinPaths(listed[db]))
			}
		}
	}
}

func TestPlanExpiryPins(t *testing.T) {
	target := Target{Root: "/backups", Namespace: "ns", Group: "g"}
	older := pinSet(t, target, "sales", 0, 100, 200, sqlserver.BackupLog)
	newer := pinSet(t, target, "sales", 10, 200, 300, sqlserver.BackupLog)
	now := pinBase.Add(30 * 24 * time.Hour)
	dir, _ := target.Dir("sales")
	tests := []struct {
		name  string
		files Files
		want  []Expiry
	}{
		{name: "with nothing to keep the bound is just after the newest prunable file",
			files: Files{"sales": {older, newer}},
			want:  []Expiry{{Dir: dir, Before: pinBase.Add(10*time.Minute + time.Second)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanExpiry(target, tt.files, now, 24*time.Hour, nil)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("PlanExpiry = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestExpireAndDeleteRefusePins(t *testing.T) {
	const name = "20260102T030405Z_37000000001600001.trn"
	setup := func(t *testing.T) (root, dbDir, victim string) {
		t.Helper()
		root = filepath.Join(t.TempDir(), "root")
		dbDir = filepath.Join(root, "ns", "g", "sales")
		if err := os.MkdirAll(dbDir, 0o755); err != nil {
			t.Fatal(err)
		}
		victim = filepath.Join(dbDir, name)
		if err := os.WriteFile(victim, []byte("backup"), 0o600); err != nil {
			t.Fatal(err)
		}
		return root, dbDir, victim
	}
	before := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		run  func(root, dbDir, victim string) ([]string, error)
		// outside: the refusal is ErrOutsideRoot (else any error).
		outside bool
	}{
		{name: "an unclean absolute root is refused",
			run: func(root, dbDir, _ string) ([]string, error) {
				return ExpireFiles(root+"/", []Expiry{{Dir: dbDir, Before: before}}, before)
			}},
		{name: "an unclean absolute expiry directory is refused",
			run: func(root, dbDir, _ string) ([]string, error) {
				return ExpireFiles(root, []Expiry{{Dir: dbDir + "/", Before: before}}, before)
			},
			outside: true},
		{name: "a directory beside root at a database directory's depth is refused, also when it does not exist",
			run: func(root, _, _ string) ([]string, error) {
				return ExpireFiles(root, []Expiry{{Dir: filepath.Join(root, "..", "x", "y"), Before: before}}, before)
			},
			outside: true},
		{name: "an unclean absolute path to delete is refused",
			run: func(root, dbDir, _ string) ([]string, error) {
				return DeleteFiles(root, []string{dbDir + "/./" + name})
			},
			outside: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, dbDir, victim := setup(t)
			deleted, err := tt.run(root, dbDir, victim)
			if err == nil || len(deleted) != 0 || (tt.outside && !errors.Is(err, ErrOutsideRoot)) {
				t.Fatalf("deleted %v, %v; want refused", deleted, err)
			}
			if _, err := os.Stat(victim); err != nil {
				t.Fatalf("%s was touched: %v", victim, err)
			}
		})
	}
}

func TestWithinPins(t *testing.T) {
	tests := []struct {
		name   string
		dir, p string
		want   bool
	}{
		{name: "a file below the directory is within it", dir: "/b/root", p: "/b/root/ns/x.trn", want: true},
		{name: "a directory is not strictly below itself", dir: "/b/root", p: "/b/root", want: false},
		{name: "the parent is not within", dir: "/b/root", p: "/b", want: false},
		{name: "a sibling sharing the name as a prefix is not within", dir: "/b/root", p: "/b/rootx/x.trn", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := within(tt.dir, tt.p); got != tt.want {
				t.Fatalf("within(%s, %s) = %v, want %v", tt.dir, tt.p, got, tt.want)
			}
		})
	}
}
