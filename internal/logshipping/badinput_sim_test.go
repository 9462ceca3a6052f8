package logshipping

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func TestWrongPasswordIsALoginFailureWithoutSecrets(t *testing.T) {
	primary := startMember(t, "PRIMARY")
	createDB(t, primary, "sales")
	const wrong = "Not-The-Pa55word"
	bad, err := sqlserver.Open(simConfig(primary.srv, "sa", wrong))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	g := newGroup(t)
	ctx := testContext(t)
	_, err = g.shipper.RunBackups(ctx, bad, []string{"sales"}, time.Now(), nil)
	wantKind(t, err, sqlserver.KindLoginFailed)
	if strings.Contains(err.Error(), wrong) {
		t.Fatalf("error shows the password: %v", err)
	}
	_, err = RestoreStandby(ctx, bad, Files{}, []string{"sales"}, RestoreSettings{}, time.Now())
	wantKind(t, err, sqlserver.KindLoginFailed)
	if entries, _ := os.ReadDir(g.dir); len(entries) != 0 {
		t.Fatalf("something was written with a wrong password: %v", entries)
	}
}

func TestUnusableBackupTargetIsClassifiedAndLosesNothing(t *testing.T) {
	primary := startMember(t, "PRIMARY")
	createDB(t, primary, "sales")
	insert(t, primary, "sales", 2)
	ctx := testContext(t)
	dir := t.TempDir()

	// The target path runs through a regular file: the directory cannot
	// be created (22048).
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := NewShipper(Target{Root: filepath.Join(blocker, "backups"), Namespace: "ns", Group: "g"}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.RunBackups(ctx, primary.client, []string{"sales"}, time.Now(), nil)
	wantKind(t, err, sqlserver.KindBackupDevice)
	if len(res) != 1 || res[0].Err == nil {
		t.Fatalf("results: %+v", res)
	}

	// The directory exists but the backup file cannot be written (a
	// directory stands where the file goes): 3201.
	s, err = NewShipper(Target{Root: dir, Namespace: "ns", Group: "g"}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	p, err := sqlserver.BackupPath(dir, "ns", "g", "sales", now, sqlserver.LSN{}, sqlserver.BackupFull)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	res, err = s.RunBackups(ctx, primary.client, []string{"sales"}, now, nil)
	wantKind(t, err, sqlserver.KindBackupDevice)
	if !sqlserver.HasErrorNumber(err, sqlserver.ErrNumCannotOpenDevice) || res[0].Path != p || res[0].Type != sqlserver.BackupFull {
		t.Fatalf("numbers %v, results %+v", sqlserver.ErrorNumbers(err), res)
	}
	// Nothing was lost, and the next run (another second) succeeds.
	if st := state(t, primary, "sales"); !st.Writable() || count(t, primary, "sales") != 2 {
		t.Fatalf("database after failed backups: %+v", st)
	}
	res, err = s.RunBackups(ctx, primary.client, []string{"sales"}, now.Add(time.Second), nil)
	if err != nil || len(res) != 2 {
		t.Fatalf("backups after the target was fixed: %+v, %v", res, err)
	}
}

func TestMissingDatabaseIsReportedAndOthersAreBackedUp(t *testing.T) {
	primary := startMember(t, "PRIMARY")
	createDB(t, primary, "sales")
	g := newGroup(t)
	ctx := testContext(t)
	dbs := []string{"sales", "ghost"}
	ready, err := g.shipper.EnsureReady(ctx, primary.client, dbs)
	if !errors.Is(err, ErrDatabaseMissing) || ready[0].Err != nil || !errors.Is(ready[1].Err, ErrDatabaseMissing) || ready[1].State != sqlserver.StateMissing {
		t.Fatalf("ensure ready: %+v, %v", ready, err)
	}
	res, err := g.shipper.RunBackups(ctx, primary.client, dbs, time.Now(), nil)
	if !errors.Is(err, ErrDatabaseMissing) || !strings.Contains(err.Error(), "ghost") {
		t.Fatalf("run backups: %v", err)
	}
	backedUp := 0
	for _, r := range res {
		if r.Database == "sales" && r.Err == nil {
			backedUp++
		}
	}
	if backedUp != 2 {
		t.Fatalf("sales was not backed up: %+v", res)
	}
	// The standby reports it too, without touching anything else.
	standby := startMember(t, "STANDBY")
	files := g.files(t, primary, dbs)
	rr, err := RestoreStandby(ctx, standby.client, files, dbs, RestoreSettings{}, time.Now())
	if err != nil || !rr[0].Seeded || !rr[1].NeedsFullBackup || rr[1].Message == "" {
		t.Fatalf("restore: %+v, %v", rr, err)
	}
}

func TestSimpleRecoveryIsReportedOrSwitched(t *testing.T) {
	primary := startMember(t, "PRIMARY")
	createDB(t, primary, "sales")
	insert(t, primary, "sales", 1)
	g := newGroup(t)
	ctx := testContext(t)
	dbs := []string{"sales"}
	g.backup(t, primary, dbs, nil) // a full backup from before the switch
	mustExec(t, primary.app(t, ""), "ALTER DATABASE sales SET RECOVERY SIMPLE")

	// Reported, not changed, when the switch is not allowed.
	g.shipper.KeepRecoveryModel = true
	ready, err := g.shipper.EnsureReady(ctx, primary.client, dbs)
	if !errors.Is(err, ErrSimpleRecovery) || ready[0].SwitchedFrom != "" || state(t, primary, "sales").RecoveryModel != sqlserver.RecoverySimple {
		t.Fatalf("ensure ready keeping the model: %+v, %v", ready, err)
	}
	if _, err := g.shipper.RunBackups(ctx, primary.client, dbs, time.Now(), nil); !errors.Is(err, ErrSimpleRecovery) {
		t.Fatalf("backups in SIMPLE recovery: %v", err)
	}
	// By default it is switched to FULL and reported.
	g.shipper.KeepRecoveryModel = false
	ready, err = g.shipper.EnsureReady(ctx, primary.client, dbs)
	if err != nil || ready[0].SwitchedFrom != sqlserver.RecoverySimple || ready[0].RecoveryModel != sqlserver.RecoveryFull {
		t.Fatalf("ensure ready: %+v, %v", ready, err)
	}
	// The log chain restarts with a full backup (4214 answered by a full).
	res := g.backup(t, primary, dbs, nil)
	if len(res) != 1 || res[0].Type != sqlserver.BackupFull || res[0].Reason != ReasonLogChain {
		t.Fatalf("backups after the switch: %+v", res)
	}
	res = g.backup(t, primary, dbs, nil)
	if len(res) != 1 || res[0].Type != sqlserver.BackupLog {
		t.Fatalf("next backups: %+v", res)
	}
	if got := count(t, primary, "sales"); got != 1 {
		t.Fatalf("rows: %d", got)
	}
}

func TestRestoreNeverOverwritesAWritableDatabase(t *testing.T) {
	primary, other := startMember(t, "PRIMARY"), startMember(t, "OTHER")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, primary, "sales")
	g.backup(t, primary, dbs, nil)
	createDB(t, other, "sales")
	insert(t, other, "sales", 5)
	rr, err := RestoreStandby(testContext(t), other.client, g.files(t, primary, dbs), dbs, standbySettings(g.dir), time.Now())
	if !errors.Is(err, ErrNotRestoring) || !errors.Is(rr[0].Err, ErrNotRestoring) {
		t.Fatalf("restore over a writable database: %+v, %v", rr, err)
	}
	if got := count(t, other, "sales"); got != 5 || !state(t, other, "sales").Writable() {
		t.Fatalf("the writable database changed: %d rows", got)
	}
	if _, err := RestoreStandby(testContext(t), other.client, Files{}, dbs, RestoreSettings{Mode: sqlserver.RestoreRecovery}, time.Now()); err == nil {
		t.Fatal("RestoreStandby accepted the Recovery mode")
	}
}
