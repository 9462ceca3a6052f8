package logshipping

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func TestCatalogueFromHistoryWhenTheOperatorCannotSeeTheVolume(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	dir := t.TempDir()
	s, err := NewShipper(Target{Root: dir, Namespace: "ns", Group: "orders"}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	createDB(t, primary, "sales")
	insert(t, primary, "sales", 2)
	ctx := testContext(t)
	taken, err := s.RunBackups(ctx, primary.client, []string{"sales"}, time.Now(), nil)
	if err != nil || len(taken) != 2 {
		t.Fatalf("backups: %+v, %v", taken, err)
	}
	files, bad, err := s.Catalogue.ListAll(ctx, primary.client, s.Target, []string{"sales"})
	if err != nil || len(bad) != 0 || len(files["sales"]) != 2 {
		t.Fatalf("catalogue from msdb: %+v, %v, %v", files, bad, err)
	}
	for i, f := range files["sales"] {
		if f.Path != taken[i].Path || !f.LastLSN.Equal(taken[i].LastLSN) || f.Type != taken[i].Type {
			t.Fatalf("catalogue entry %d: %v, backup %+v", i, f, taken[i])
		}
	}
	r, err := RestoreStandby(ctx, standby.client, files, []string{"sales"}, RestoreSettings{}, time.Now())
	if err != nil || !r[0].Seeded || len(r[0].Applied) != 2 {
		t.Fatalf("restore from the msdb catalogue: %+v, %v", r, err)
	}
	// The standby's msdb lists restored sets, not backups: it is no source.
	other, _, err := s.Catalogue.List(ctx, standby.client, s.Target, "sales")
	if err != nil || len(other) != 0 {
		t.Fatalf("catalogue from the standby's msdb: %v, %v", other, err)
	}
}

func TestCatalogueSkipsUnreadableFilesAndForgetsDeletedOnes(t *testing.T) {
	primary := startMember(t, "PRIMARY")
	g := newGroup(t)
	createDB(t, primary, "sales")
	createDB(t, primary, "stock")
	dbs := []string{"sales"}
	taken := g.backup(t, primary, dbs, nil)
	dbDir := filepath.Dir(taken[0].Path)
	// A file being written (or corrupt), a file of another database, and a
	// file that is not a backup at all.
	junk := filepath.Join(dbDir, "20260101T000000Z_1.trn")
	if err := os.WriteFile(junk, []byte("half a backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dbDir, "20260101T000001Z_2.bak")
	if err := primary.client.BackupDatabase(testContext(t), "stock", foreign, sqlserver.BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dbDir, "sales.tuf"), []byte("undo"), 0o600); err != nil {
		t.Fatal(err)
	}
	files, bad, err := g.shipper.Catalogue.List(testContext(t), primary.client, g.shipper.Target, "sales")
	if err != nil || len(files) != 2 || len(bad) != 2 {
		t.Fatalf("catalogue: %v, unreadable %v, %v", files, bad, err)
	}
	for _, b := range bad {
		if b.Path != junk && b.Path != foreign {
			t.Fatalf("unexpected unreadable file %v", b)
		}
	}
	if !sqlserver.IsKind(errors.Unwrap(bad[0]), sqlserver.KindBackupMedia) && !sqlserver.IsKind(errors.Unwrap(bad[1]), sqlserver.KindBackupMedia) {
		t.Fatalf("the junk file is not a media error: %v", bad)
	}
	// A deleted file leaves the cache.
	if err := os.Remove(taken[1].Path); err != nil {
		t.Fatal(err)
	}
	files, _, err = g.shipper.Catalogue.List(testContext(t), primary.client, g.shipper.Target, "sales")
	if err != nil || len(files) != 1 || len(g.shipper.Catalogue.headers) != 1 {
		t.Fatalf("after a deletion: %v (%d cached), %v", files, len(g.shipper.Catalogue.headers), err)
	}
}

func TestStandbyReturnsToMultiUserWhenARestoreFails(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, primary, "sales")
	g.backup(t, primary, dbs, nil)
	settings := standbySettings(g.dir)
	g.restore(t, primary, standby, dbs, settings, time.Now())
	insert(t, primary, "sales", 1)
	g.backup(t, primary, dbs, nil)
	broken := settings
	broken.UndoDir = filepath.Join(g.dir, "no", "such", "dir")
	r, err := RestoreStandby(testContext(t), standby.client, g.files(t, primary, dbs), dbs, broken, time.Now())
	if err == nil || r[0].Err == nil || r[0].NeedsFullBackup || r[0].RetryLater {
		t.Fatalf("restore with an unusable undo directory: %+v, %v", r, err)
	}
	wantKind(t, r[0].Err, sqlserver.KindBackupDevice)
	if st := state(t, standby, "sales"); st.UserAccess != sqlserver.UserAccessMulti || !st.IsInStandby {
		t.Fatalf("standby after a failed restore: %+v", st)
	}
	// The next good run continues the chain.
	ok := g.restore(t, primary, standby, dbs, settings, time.Now())[0]
	if len(ok.Applied) != 1 || count(t, standby, "sales") != 1 {
		t.Fatalf("restore after the failure: %+v", ok)
	}
}
