package logshipping

import (
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// TestSwitchoverThenSettingsPutBack: the old primary's database belongs to app_owner and is
// TRUSTWORTHY; after a planned switchover the new primary's copy belongs to the login that
// restored it, with TRUSTWORTHY off (as SQL Server does it). ApplyDatabaseSettings puts both back;
// a login that may not set TRUSTWORTHY gets the statement to run instead, and the owner is still
// set.
func TestSwitchoverThenSettingsPutBack(t *testing.T) {
	a, b := startMember(t, "A"), startMember(t, "B")
	g := newGroup(t)
	dbs := []string{"sales"}
	createDB(t, a, "sales")
	for _, m := range []*member{a, b} {
		mustExec(t, m.app(t, ""), "CREATE LOGIN [app_owner] WITH PASSWORD = N'Owner-Passw0rd!'")
	}
	mustExec(t, a.app(t, ""), "ALTER AUTHORIZATION ON DATABASE::[sales] TO [app_owner]")
	mustExec(t, a.app(t, ""), "ALTER DATABASE [sales] SET TRUSTWORTHY ON")
	ctx := testContext(t)
	before := state(t, a, "sales")
	if before.Owner != "app_owner" || !before.Trustworthy {
		t.Fatalf("old primary: owner %q trustworthy %t", before.Owner, before.Trustworthy)
	}
	g.backup(t, a, dbs, nil)
	g.restore(t, a, b, dbs, standbySettings(g.dir), time.Now())
	if _, err := g.shipper.PlannedSwitchover(ctx, a.client, b.client, dbs, time.Now()); err != nil {
		t.Fatal(err)
	}
	after := state(t, b, "sales")
	if after.Owner != "sa" || after.Trustworthy {
		t.Fatalf("new primary after the switchover: owner %q trustworthy %t, want sa (who restored it) and off", after.Owner, after.Trustworthy)
	}
	want := map[string]DatabaseSettings{"sales": {Owner: before.Owner, Trustworthy: before.Trustworthy}}
	changes, err := ApplyDatabaseSettings(ctx, b.client, want)
	if err != nil || len(changes) != 2 {
		t.Fatalf("apply: %+v, %v", changes, err)
	}
	if st := state(t, b, "sales"); st.Owner != "app_owner" || !st.Trustworthy {
		t.Fatalf("after apply: owner %q trustworthy %t", st.Owner, st.Trustworthy)
	}
	if again, err := ApplyDatabaseSettings(ctx, b.client, want); err != nil || len(again) != 0 {
		t.Fatalf("apply again: %+v, %v (want nothing to do)", again, err)
	}

	// A login that may restore and take ownership but is not sysadmin.
	app := b.app(t, "")
	mustExec(t, app, "CREATE LOGIN [op] WITH PASSWORD = N'Op-Passw0rd!1', CHECK_POLICY = OFF")
	mustExec(t, app, "ALTER SERVER ROLE [dbcreator] ADD MEMBER [op]")
	mustExec(t, app, "GRANT IMPERSONATE ANY LOGIN TO [op]")
	mustExec(t, app, "ALTER AUTHORIZATION ON DATABASE::[sales] TO [op]")
	mustExec(t, app, "ALTER DATABASE [sales] SET TRUSTWORTHY OFF")
	op, err := sqlserver.Open(simConfig(b.srv, "op", "Op-Passw0rd!1"))
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	changes, err = ApplyDatabaseSettings(ctx, op, want)
	if err == nil || len(changes) != 2 || changes[0].Err != nil || changes[1].Err == nil ||
		changes[1].Statement != "ALTER DATABASE [sales] SET TRUSTWORTHY ON" || !strings.Contains(err.Error(), "TRUSTWORTHY") {
		t.Fatalf("as a non-sysadmin: %+v, %v; want the owner set and TRUSTWORTHY refused with its statement", changes, err)
	}
	if st := state(t, b, "sales"); st.Owner != "app_owner" || st.Trustworthy {
		t.Fatalf("as a non-sysadmin: owner %q trustworthy %t", st.Owner, st.Trustworthy)
	}
}
