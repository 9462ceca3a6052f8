package logshipping

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// CopyLogins keeps the primary's CHECK_POLICY / CHECK_EXPIRATION on the
// standby (it used to force both OFF).
func TestCopyLoginsKeepsPasswordPolicy(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	admin := primary.app(t, "")
	mustExec(t, admin, "CREATE LOGIN [strict] WITH PASSWORD = N'Strict-Passw0rd!', CHECK_POLICY = ON, CHECK_EXPIRATION = ON")
	mustExec(t, admin, "CREATE LOGIN [relaxed] WITH PASSWORD = N'Relaxed-Passw0rd!', CHECK_POLICY = OFF, CHECK_EXPIRATION = OFF")
	ctx := testContext(t)
	copies, err := CopyLogins(ctx, primary.client, standby.client)
	if err != nil || len(copies) != 2 {
		t.Fatalf("copy logins: %+v, %v", copies, err)
	}
	want := map[string][2]bool{"strict": {true, true}, "relaxed": {false, false}}
	for _, m := range []*member{primary, standby} {
		for name, w := range want {
			var policy, expiration bool
			if err := m.app(t, "").QueryRowContext(ctx, "SELECT is_policy_checked, is_expiration_checked FROM sys.sql_logins WHERE name = @p1", name).
				Scan(&policy, &expiration); err != nil {
				t.Fatalf("%s on %s: %v", name, m.name, err)
			}
			if policy != w[0] || expiration != w[1] {
				t.Fatalf("%s on %s: check_policy=%t check_expiration=%t, want %t %t", name, m.name, policy, expiration, w[0], w[1])
			}
		}
	}
	// Copying again changes nothing.
	copies, err = CopyLogins(ctx, primary.client, standby.client)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range copies {
		if c.Change != sqlserver.LoginUnchanged {
			t.Fatalf("second copy: %+v", copies)
		}
	}
}

// forkedStandby builds TestStandbyAheadOfThePromotedMemberIsReseeded's
// situation: C restored a log backup of A that B never saw, B was promoted
// and backed up. It returns the group, B, C and B's backups.
func forkedStandby(t *testing.T) (g *group, b, c *member, dbs []string) {
	a := startMember(t, "A")
	b, c = startMember(t, "B"), startMember(t, "C")
	g = newGroup(t)
	dbs = []string{"sales"}
	createDB(t, a, "sales")
	insert(t, a, "sales", 2)
	g.backup(t, a, dbs, nil)
	settings := standbySettings(g.dir)
	g.restore(t, a, b, dbs, settings, time.Now())
	g.restore(t, a, c, dbs, settings, time.Now())
	insert(t, a, "sales", 2)
	late := g.backup(t, a, dbs, nil)[0] // C restores it, B never sees it
	g.restore(t, a, c, dbs, settings, time.Now())
	a.srv.Crash()
	seen := Files{}
	for _, f := range g.files(t, b, dbs)["sales"] {
		if f.Path != late.Path {
			seen["sales"] = append(seen["sales"], f)
		}
	}
	failoverAt := time.Now()
	if _, err := Promote(testContext(t), b.client, seen, dbs, failoverAt); err != nil {
		t.Fatal(err)
	}
	insert(t, b, "sales", 10)
	clockPast(t, failoverAt)
	g.backup(t, b, dbs, nil)
	return g, b, c, dbs
}

// A standby on another recovery fork (4330) gets Reason ForkedDatabase,
// NeedsFullBackup and an actionable message while no full backup of the
// new primary is known; once one is, it is reseeded.
func TestForkedStandbyHasReasonForkedDatabase(t *testing.T) {
	g, b, c, dbs := forkedStandby(t)
	settings := standbySettings(g.dir)
	all := g.files(t, b, dbs)
	// Without the new primary's full backup nothing can repair it yet.
	var cutoff time.Time
	for _, f := range all["sales"] {
		if f.Type == sqlserver.BackupFull && f.FinishedAt.After(cutoff) {
			cutoff = f.FinishedAt
		}
	}
	noNewFull := Files{}
	for _, f := range all["sales"] {
		if f.Type != sqlserver.BackupFull || f.FinishedAt.Before(cutoff) {
			noNewFull["sales"] = append(noNewFull["sales"], f)
		}
	}
	res, err := RestoreStandby(testContext(t), c.client, noNewFull, dbs, settings, time.Now())
	if err != nil || len(res) != 1 {
		t.Fatalf("restore: %+v, %v", res, err)
	}
	r := res[0]
	if r.Reason != v1alpha1.ReasonRestoreScheduleForkedDatabase || !r.NeedsFullBackup || r.Err != nil || r.Reseeded {
		t.Fatalf("forked standby without a new full backup: %+v", r)
	}
	for _, want := range []string{"4330", "recovery fork", "full backup"} {
		if !strings.Contains(r.Message, want) {
			t.Fatalf("message %q does not say %q", r.Message, want)
		}
	}
	// With it, the same run reseeds; the result is healthy again.
	r = g.restore(t, b, c, dbs, settings, time.Now())[0]
	if !r.Reseeded || r.NeedsFullBackup || r.Err != nil || r.Reason != "" || !strings.Contains(r.Message, "reseeded from") {
		t.Fatalf("forked standby with a new full backup: %+v", r)
	}
	if p, s := count(t, b, "sales"), count(t, c, "sales"); p != s {
		t.Fatalf("new primary %d rows, standby %d", p, s)
	}
}

// A standby database of the group database's name that is another
// database (3154 on its restore) is not overwritten: Reason OtherDatabase,
// Err (ErrOtherDatabase, still classified 3154).
func TestForeignStandbyDatabaseIsLeftAlone(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, primary, "sales")
	g.backup(t, primary, dbs, nil) // full + first log
	insert(t, primary, "sales", 30)
	g.backup(t, primary, dbs, nil) // a log covering many LSNs

	// The standby has its own "sales", restoring, at an LSN the primary's
	// log backups cover: only the family tells them apart.
	createDB(t, standby, "sales")
	insert(t, standby, "sales", 5)
	app := standby.app(t, "")
	own := fmt.Sprintf("%s/own.bak", t.TempDir())
	mustExec(t, app, "BACKUP DATABASE [sales] TO DISK = @p1", own)
	mustExec(t, app, "RESTORE DATABASE [sales] FROM DISK = @p1 WITH NORECOVERY, REPLACE", own)
	before := state(t, standby, "sales")

	res, err := RestoreStandby(testContext(t), standby.client, g.files(t, primary, dbs), dbs, standbySettings(g.dir), time.Now())
	if len(res) != 1 {
		t.Fatalf("results %+v", res)
	}
	r := res[0]
	if r.Reseeded || r.Seeded || len(r.Applied) != 0 {
		t.Fatalf("the foreign database was overwritten or restored to: %+v", r)
	}
	if r.Reason != v1alpha1.ReasonRestoreScheduleOtherDatabase || r.NeedsFullBackup || !errors.Is(r.Err, ErrOtherDatabase) || !errors.Is(err, ErrOtherDatabase) {
		t.Fatalf("foreign standby database: %+v, %v", r, err)
	}
	if k := sqlserver.Classify(r.Err); k != sqlserver.KindBackupOfOtherDatabase {
		t.Fatalf("Classify(Err) = %s", k)
	}
	if !strings.Contains(r.Message, "3154") || !strings.Contains(r.Message, "drop or rename") {
		t.Fatalf("message %q", r.Message)
	}
	if after := state(t, standby, "sales"); after.Describe() != before.Describe() {
		t.Fatalf("the foreign database changed: %s -> %s", before.Describe(), after.Describe())
	}
	// It is still the standby's own database: recovered, it has its 5 rows.
	mustExec(t, app, "RESTORE DATABASE [sales] WITH RECOVERY")
	if n := count(t, standby, "sales"); n != 5 {
		t.Fatalf("the foreign database has %d rows, want its own 5", n)
	}
}

// Restores that verify checksums, of backups taken without (a BackupTarget
// whose checksums were just turned on, or files made by hand): Reason
// ChecksumMissing, NeedsFullBackup, a message that says both ways out; a
// full backup with checksums repairs it.
func TestRestoreWithChecksumOfBackupsWithoutIsChecksumMissing(t *testing.T) {
	primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
	g := newGroup(t)
	g.shipper.Target.Checksum = false // backups WITHOUT CHECKSUM
	dbs := []string{"sales"}
	createDB(t, primary, "sales")
	insert(t, primary, "sales", 2)
	g.backup(t, primary, dbs, nil)
	settings := standbySettings(g.dir) // Checksum: true
	res, err := RestoreStandby(testContext(t), standby.client, g.files(t, primary, dbs), dbs, settings, time.Now())
	if err != nil || len(res) != 1 {
		t.Fatalf("results %+v, %v", res, err)
	}
	r := res[0]
	if r.Reason != v1alpha1.ReasonRestoreScheduleChecksumMissing || !r.NeedsFullBackup || r.Err != nil || r.Seeded || len(r.Applied) != 0 {
		t.Fatalf("restore WITH CHECKSUM of backups without: %+v", r)
	}
	for _, want := range []string{"3187", "WITH CHECKSUM", "full backup", "spec.checksum: false"} {
		if !strings.Contains(r.Message, want) {
			t.Fatalf("message %q does not say %q", r.Message, want)
		}
	}
	// Checksums on: the forced full backup has them and seeds the standby.
	g.shipper.Target.Checksum = true
	clockPast(t, time.Now())
	g.backup(t, primary, dbs, map[string]bool{"sales": true})
	r = g.restore(t, primary, standby, dbs, settings, time.Now())[0]
	if !r.Seeded || r.Err != nil || r.Reason != "" || r.NeedsFullBackup {
		t.Fatalf("restore after a full backup with checksums: %+v", r)
	}
	if p, s := count(t, primary, "sales"), count(t, standby, "sales"); p != s {
		t.Fatalf("primary %d rows, standby %d", p, s)
	}
}
