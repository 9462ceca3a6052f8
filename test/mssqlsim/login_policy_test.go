package mssqlsim

import (
	"database/sql"
	"fmt"
	"testing"
)

// loginPolicy reads is_policy_checked and is_expiration_checked.
func loginPolicy(t *testing.T, db *sql.DB, name string) (policy, expiration bool) {
	t.Helper()
	if err := db.QueryRow("SELECT is_policy_checked, is_expiration_checked FROM sys.sql_logins WHERE name = @p1", name).Scan(&policy, &expiration); err != nil {
		t.Fatalf("policy of %s: %v", name, err)
	}
	return policy, expiration
}

func wantError(t *testing.T, db *sql.DB, query string, number int32) {
	t.Helper()
	_, err := db.Exec(query)
	if me := sqlError(t, err); me.Number != number {
		t.Fatalf("%s: error %v, want %d", query, errorNumbers(me), number)
	}
}

// CHECK_POLICY and CHECK_EXPIRATION as documented for CREATE LOGIN, ALTER
// LOGIN and "Password policy": defaults ON and OFF, recorded in
// sys.sql_logins, CHECK_EXPIRATION ON only with CHECK_POLICY ON (15122),
// hashed passwords accepted with CHECK_POLICY ON.
func TestLoginPasswordPolicyOptions(t *testing.T) {
	dir := t.TempDir()
	srv := startSim(t, dir)
	db := openDB(t, srv, "")

	mustExec(t, db, "CREATE LOGIN [dflt] WITH PASSWORD = N'Dflt-Passw0rd!'")
	if p, e := loginPolicy(t, db, "dflt"); !p || e {
		t.Fatalf("defaults: check_policy=%t check_expiration=%t, want ON and OFF", p, e)
	}
	mustExec(t, db, "CREATE LOGIN [both] WITH PASSWORD = N'Both-Passw0rd!', CHECK_POLICY = ON, CHECK_EXPIRATION = ON")
	if p, e := loginPolicy(t, db, "both"); !p || !e {
		t.Fatalf("both ON: %t %t", p, e)
	}
	mustExec(t, db, "CREATE LOGIN [none] WITH PASSWORD = N'weak', CHECK_POLICY = OFF")
	if p, e := loginPolicy(t, db, "none"); p || e {
		t.Fatalf("policy OFF: %t %t", p, e)
	}

	// Refused combinations and passwords.
	wantError(t, db, "CREATE LOGIN [x] WITH PASSWORD = N'Xx-Passw0rd!', CHECK_POLICY = OFF, CHECK_EXPIRATION = ON", 15122)
	wantError(t, db, "CREATE LOGIN [x] WITH PASSWORD = N'Xx-Passw0rd!', CHECK_EXPIRATION = ON, CHECK_POLICY = OFF", 15122)
	wantError(t, db, "CREATE LOGIN [x] WITH PASSWORD = N'Xx-Passw0rd!' MUST_CHANGE, CHECK_POLICY = ON", 15099)
	wantError(t, db, "CREATE LOGIN [x] WITH PASSWORD = N'Sh0rt!'", 15116)
	wantError(t, db, "CREATE LOGIN [x] WITH PASSWORD = N'alllowercase'", 15118)
	if n := queryInt(t, db, "SELECT COUNT(*) FROM sys.sql_logins WHERE name = 'x'"); n != 0 {
		t.Fatal("a refused CREATE LOGIN created the login")
	}

	// A hashed password with CHECK_POLICY ON (what a login copy does):
	// accepted, its complexity cannot be checked, and it authenticates.
	var hash, sid []byte
	if err := db.QueryRow("SELECT password_hash, sid FROM sys.sql_logins WHERE name = 'both'").Scan(&hash, &sid); err != nil {
		t.Fatal(err)
	}
	copyStmt := fmt.Sprintf("CREATE LOGIN [copy] WITH PASSWORD = 0x%X HASHED, SID = 0x%X, CHECK_EXPIRATION = ON, CHECK_POLICY = ON", hash, append([]byte{0x7F}, sid...))
	mustExec(t, db, copyStmt)
	if p, e := loginPolicy(t, db, "copy"); !p || !e {
		t.Fatalf("hashed copy: %t %t", p, e)
	}
	login, err := sql.Open("sqlserver", srv.DSN("copy", "Both-Passw0rd!", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer login.Close()
	if got := queryString(t, login, "SELECT SUSER_SNAME()"); got != "copy" {
		t.Fatalf("SUSER_SNAME() = %q", got)
	}

	// ALTER LOGIN: OFF also turns expiration off; ON turns it on unless
	// the statement says otherwise; expiration without policy is refused.
	mustExec(t, db, "ALTER LOGIN [both] WITH CHECK_POLICY = OFF")
	if p, e := loginPolicy(t, db, "both"); p || e {
		t.Fatalf("after CHECK_POLICY = OFF: %t %t", p, e)
	}
	wantError(t, db, "ALTER LOGIN [both] WITH CHECK_EXPIRATION = ON", 15122)
	mustExec(t, db, "ALTER LOGIN [both] WITH CHECK_POLICY = ON")
	if p, e := loginPolicy(t, db, "both"); !p || !e {
		t.Fatalf("after CHECK_POLICY = ON: %t %t", p, e)
	}
	mustExec(t, db, "ALTER LOGIN [none] WITH CHECK_EXPIRATION = OFF, CHECK_POLICY = ON")
	if p, e := loginPolicy(t, db, "none"); !p || e {
		t.Fatalf("after CHECK_EXPIRATION = OFF, CHECK_POLICY = ON: %t %t", p, e)
	}
	wantError(t, db, "ALTER LOGIN [dflt] WITH PASSWORD = N'weakweak'", 15118)
	mustExec(t, db, "ALTER LOGIN [dflt] WITH PASSWORD = 0x"+fmt.Sprintf("%X", hash)+" HASHED")
	mustExec(t, db, "ALTER LOGIN [dflt] WITH CHECK_POLICY = OFF, PASSWORD = N'weakweak'")
	if p, e := loginPolicy(t, db, "dflt"); p || e {
		t.Fatalf("after CHECK_POLICY = OFF with a password: %t %t", p, e)
	}

	// The settings survive a restart.
	srv.Close()
	srv = startSim(t, dir)
	db = openDB(t, srv, "")
	for name, want := range map[string][2]bool{"both": {true, true}, "none": {true, false}, "copy": {true, true}, "dflt": {false, false}} {
		if p, e := loginPolicy(t, db, name); p != want[0] || e != want[1] {
			t.Fatalf("%s after restart: %t %t, want %v", name, p, e, want)
		}
	}
}
