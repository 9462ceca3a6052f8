package logshipping

import (
	"path/filepath"
	"testing"
	"time"
)

// TestForeignLogBackupIsFound: a DBA's job backs up the primary's log to its own directory. The
// operator finds that backup (msdb's backupset and backupmediafamily), and not one taken WITH
// COPY_ONLY; the next shipped log backup no longer continues the standby's chain, which is what
// the condition warns about.
func TestForeignLogBackupIsFound(t *testing.T) {
	a, b := startMember(t, "A"), startMember(t, "B")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, a, "sales")
	insert(t, a, "sales", 2)
	g.backup(t, a, dbs, nil)
	g.restore(t, a, b, dbs, standbySettings(g.dir), time.Now())
	ctx := testContext(t)
	none, err := g.shipper.InspectLogs(ctx, a.client, dbs, time.Now())
	if err != nil || len(none.Foreign) != 0 {
		t.Fatalf("before the DBA's job: %v, %v", none, err)
	}

	jobDir := t.TempDir()
	app := a.app(t, "")
	insert(t, a, "sales", 1)
	mustExec(t, app, "BACKUP LOG [sales] TO DISK = @p1 WITH INIT, COPY_ONLY", filepath.Join(jobDir, "copy.trn"))
	mustExec(t, app, "BACKUP LOG [sales] TO DISK = @p1 WITH INIT", filepath.Join(jobDir, "job.trn"))
	found, err := g.shipper.InspectLogs(ctx, a.client, dbs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if foreign := found.Foreign; len(foreign["sales"]) != 1 || foreign["sales"][0].Path != filepath.Join(jobDir, "job.trn") {
		t.Fatalf("foreign log backups = %+v, want only job.trn", found.Foreign)
	}
	// What it breaks: the next log backup in the target starts after the job's, so the standby
	// cannot apply it.
	insert(t, a, "sales", 1)
	g.backup(t, a, dbs, nil)
	res := g.restore(t, a, b, dbs, standbySettings(g.dir), time.Now())
	if !res[0].NeedsFullBackup {
		t.Fatalf("restore after the foreign log backup: %+v, want the chain broken (needs a full backup)", res[0])
	}
}
