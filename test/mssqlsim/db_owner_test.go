package mssqlsim

import (
	"errors"
	"testing"

	mssql "github.com/microsoft/go-mssqldb"
)

// TestRestoreResetsOwnerAndTrustworthy: the login that restores a database owns it and TRUSTWORTHY
// is off, whatever the source had, as SQL Server does; ALTER AUTHORIZATION and SET TRUSTWORTHY
// put them back, each with its permission.
func TestRestoreResetsOwnerAndTrustworthy(t *testing.T) {
	f := newPermFixture(t)
	sa := f.sa
	mustExec(t, sa, "CREATE LOGIN [app_owner] WITH PASSWORD = N'Owner-Passw0rd!'")
	mustExec(t, sa, "CREATE DATABASE [shop]")
	mustExec(t, sa, "ALTER AUTHORIZATION ON DATABASE::[shop] TO [app_owner]")
	mustExec(t, sa, "ALTER DATABASE [shop] SET TRUSTWORTHY ON")
	owner := func() (string, bool) {
		t.Helper()
		var name string
		var trustworthy bool
		if err := sa.QueryRow("SELECT SUSER_SNAME(owner_sid), is_trustworthy_on FROM sys.databases WHERE name = N'shop'").Scan(&name, &trustworthy); err != nil {
			t.Fatal(err)
		}
		return name, trustworthy
	}
	if name, tw := owner(); name != "app_owner" || !tw {
		t.Fatalf("before the restore: owner %q trustworthy %t", name, tw)
	}
	file := t.TempDir() + "/shop.bak"
	mustExec(t, sa, "BACKUP DATABASE [shop] TO DISK = @p1 WITH INIT", file)
	// A restorer with dbcreator, not sysadmin.
	op := f.newLogin(t, "restorer", []string{"ALTER SERVER ROLE [dbcreator] ADD MEMBER [%s]"})
	mustExec(t, op, "RESTORE DATABASE [shop] FROM DISK = @p1 WITH REPLACE, RECOVERY", file)
	if name, tw := owner(); name != "restorer" || tw {
		t.Fatalf("after the restore: owner %q trustworthy %t, want restorer and off", name, tw)
	}
	// TRUSTWORTHY needs sysadmin; ALTER AUTHORIZATION needs IMPERSONATE on the new owner.
	for stmt, want := range map[string]int32{
		"ALTER DATABASE [shop] SET TRUSTWORTHY ON":                 15247,
		"ALTER AUTHORIZATION ON DATABASE::[shop] TO [app_owner]":   15151,
		"ALTER AUTHORIZATION ON DATABASE::[shop] TO [nobody_here]": 15151,
	} {
		_, err := op.Exec(stmt)
		var me mssql.Error
		if !errors.As(err, &me) || me.Number != want {
			t.Fatalf("%s as the restorer: %v, want %d", stmt, err, want)
		}
	}
	mustExec(t, sa, "GRANT IMPERSONATE ANY LOGIN TO [restorer]")
	mustExec(t, op, "ALTER AUTHORIZATION ON DATABASE::[shop] TO [app_owner]")
	mustExec(t, sa, "ALTER DATABASE [shop] SET TRUSTWORTHY ON")
	if name, tw := owner(); name != "app_owner" || !tw {
		t.Fatalf("after setting them again: owner %q trustworthy %t", name, tw)
	}
}
