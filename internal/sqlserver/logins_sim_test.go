package sqlserver

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestLoginsAreCopiedWithSameSIDAndPassword(t *testing.T) {
	primary, standby := startInstance(t, "PRIMARY"), startInstance(t, "STANDBY")
	const appPassword = "App-Passw0rd!"
	admin := openApp(t, primary.srv, "")
	mustExec(t, admin, "CREATE LOGIN [app_user] WITH PASSWORD = N'"+appPassword+"', CHECK_POLICY = OFF")
	mustExec(t, admin, "CREATE LOGIN [odd]]name] WITH PASSWORD = N'Odd-Passw0rd!', CHECK_POLICY = OFF")
	ctx := testContext(t)
	logins, err := primary.client.Logins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(logins) != 2 {
		t.Fatalf("logins %v, want app_user and odd]name (sa excluded)", logins)
	}
	for _, l := range logins {
		if strings.EqualFold(l.Name, "sa") || len(l.SID) == 0 || len(l.PasswordHash) == 0 {
			t.Fatalf("login %v", l)
		}
		// The hash is a secret: not in String or %#v.
		for _, text := range []string{l.String(), fmt.Sprintf("%v", l), fmt.Sprintf("%+v", l), fmt.Sprintf("%#v", l)} {
			if strings.Contains(strings.ToUpper(text), hexLiteral(l.PasswordHash)[2:]) {
				t.Fatalf("login text shows the password hash: %s", text)
			}
		}
		change, err := standby.client.EnsureLogin(ctx, l)
		if err != nil {
			t.Fatalf("ensure %s: %v", l.Name, err)
		}
		if change != LoginCreated {
			t.Fatalf("ensure %s: %s, want Created", l.Name, change)
		}
	}
	copied, err := standby.client.Logins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(copied) != len(logins) {
		t.Fatalf("standby logins %v", copied)
	}
	for i := range copied {
		if copied[i].Name != logins[i].Name || !bytes.Equal(copied[i].SID, logins[i].SID) || !bytes.Equal(copied[i].PasswordHash, logins[i].PasswordHash) {
			t.Fatalf("copied %v, want %v", copied[i], logins[i])
		}
	}
	// The copied login authenticates with the original password.
	app, err := Open(simConfig(standby.srv, "app_user", appPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if err := app.Ping(ctx); err != nil {
		t.Fatalf("copied login cannot log in: %v", err)
	}
	// Ensuring again changes nothing.
	if change, err := standby.client.EnsureLogin(ctx, logins[0]); err != nil || change != LoginUnchanged {
		t.Fatalf("second ensure: %s, %v", change, err)
	}
	// A password change on the primary is carried over.
	const newPassword = "New-Passw0rd!"
	mustExec(t, admin, "ALTER LOGIN [app_user] WITH PASSWORD = N'"+newPassword+"'")
	logins, err = primary.client.Logins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var appLogin Login
	for _, l := range logins {
		if l.Name == "app_user" {
			appLogin = l
		}
	}
	if change, err := standby.client.EnsureLogin(ctx, appLogin); err != nil || change != LoginUpdated {
		t.Fatalf("ensure after password change: %s, %v", change, err)
	}
	renewed, err := Open(simConfig(standby.srv, "app_user", newPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer renewed.Close()
	if err := renewed.Ping(ctx); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	// Disabling on the source is carried over: the copy cannot log in.
	disabled := appLogin
	disabled.Disabled = true
	if change, err := standby.client.EnsureLogin(ctx, disabled); err != nil || change != LoginUpdated {
		t.Fatalf("ensure disabled: %s, %v", change, err)
	}
	refused, err := Open(simConfig(standby.srv, "app_user", newPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer refused.Close()
	wantKind(t, refused.Ping(ctx), KindLoginFailed)
	if change, err := standby.client.EnsureLogin(ctx, appLogin); err != nil || change != LoginUpdated {
		t.Fatalf("ensure re-enabled: %s, %v", change, err)
	}
	// A login disabled on the source is created disabled.
	ghost := Login{Name: "ghost", SID: []byte{0x11, 0x22, 0x33}, PasswordHash: appLogin.PasswordHash, Disabled: true}
	if change, err := standby.client.EnsureLogin(ctx, ghost); err != nil || change != LoginCreated {
		t.Fatalf("ensure disabled new login: %s, %v", change, err)
	}
	all, err := standby.client.Logins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range all {
		if l.Name == "ghost" && !l.Disabled {
			t.Fatal("login created enabled although disabled on the source")
		}
	}
	// Same name, other SID: refused, not silently replaced.
	other := appLogin
	other.SID = []byte{0xAB, 0xCD}
	_, err = standby.client.EnsureLogin(ctx, other)
	var mismatch *LoginSIDMismatchError
	if !errors.As(err, &mismatch) || mismatch.Name != "app_user" {
		t.Fatalf("SID mismatch: %v", err)
	}
}

func TestEnsureLoginValidatesInput(t *testing.T) {
	tests := []struct {
		name  string
		login Login
	}{
		{"empty name", Login{SID: []byte{1, 2}, PasswordHash: []byte{2}}},
		{"control character", Login{Name: "a\nb", SID: []byte{1, 2}, PasswordHash: []byte{2}}},
		{"no SID", Login{Name: "a", PasswordHash: []byte{2}}},
		{"SID too long", Login{Name: "a", SID: make([]byte, 86), PasswordHash: []byte{2}}},
		{"no hash", Login{Name: "a", SID: []byte{1, 2}}},
		{"hash too long", Login{Name: "a", SID: []byte{1, 2}, PasswordHash: make([]byte, 257)}},
		{"expiration without policy", Login{Name: "a", SID: []byte{1, 2}, PasswordHash: []byte{2}, CheckExpiration: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.login.validate(); err == nil {
				t.Fatalf("%+v accepted", tc.login)
			}
		})
	}
	if err := (Login{Name: "ok", SID: []byte{1, 2}, PasswordHash: []byte{2, 0, 1}}).validate(); err != nil {
		t.Fatalf("valid login refused: %v", err)
	}
}

func TestHexLiteral(t *testing.T) {
	tests := map[string][]byte{
		"0x":         {},
		"0x00":       {0},
		"0x0102ABFF": {1, 2, 0xab, 0xff},
		"0x275D3B2D": []byte("'];-"),
	}
	for want, in := range tests {
		if got := hexLiteral(in); got != want {
			t.Errorf("hexLiteral(%v) = %s, want %s", in, got, want)
		}
	}
}

// policyOf reads a login's is_policy_checked and is_expiration_checked
// straight from sys.sql_logins.
func policyOf(t *testing.T, db *sql.DB, name string) (policy, expiration bool) {
	t.Helper()
	if err := db.QueryRow("SELECT is_policy_checked, is_expiration_checked FROM sys.sql_logins WHERE name = @p1", name).Scan(&policy, &expiration); err != nil {
		t.Fatalf("policy of %s: %v", name, err)
	}
	return policy, expiration
}

// A copied login keeps the source's CHECK_POLICY and CHECK_EXPIRATION
// (it used to be created with both OFF, whatever the source had).
func TestCopiedLoginsKeepPasswordPolicySettings(t *testing.T) {
	primary, standby := startInstance(t, "PRIMARY"), startInstance(t, "STANDBY")
	admin, copyAdmin := openApp(t, primary.srv, ""), openApp(t, standby.srv, "")
	mustExec(t, admin, "CREATE LOGIN [strict] WITH PASSWORD = N'Strict-Passw0rd!', CHECK_POLICY = ON, CHECK_EXPIRATION = ON")
	mustExec(t, admin, "CREATE LOGIN [relaxed] WITH PASSWORD = N'Relaxed-Passw0rd!', CHECK_POLICY = OFF, CHECK_EXPIRATION = OFF")
	mustExec(t, admin, "CREATE LOGIN [policy_only] WITH PASSWORD = N'Policy-Passw0rd!'") // defaults: ON, OFF
	want := map[string][2]bool{"strict": {true, true}, "relaxed": {false, false}, "policy_only": {true, false}}
	ctx := testContext(t)
	logins, err := primary.client.Logins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(logins) != len(want) {
		t.Fatalf("logins %v", logins)
	}
	for _, l := range logins {
		if w := want[l.Name]; l.CheckPolicy != w[0] || l.CheckExpiration != w[1] {
			t.Fatalf("primary %v, want check_policy=%t check_expiration=%t", l, w[0], w[1])
		}
		if change, err := standby.client.EnsureLogin(ctx, l); err != nil || change != LoginCreated {
			t.Fatalf("ensure %v: %s, %v", l, change, err)
		}
		if p, e := policyOf(t, copyAdmin, l.Name); p != l.CheckPolicy || e != l.CheckExpiration {
			t.Fatalf("copy of %v: check_policy=%t check_expiration=%t", l, p, e)
		}
		if change, err := standby.client.EnsureLogin(ctx, l); err != nil || change != LoginUnchanged {
			t.Fatalf("second ensure of %v: %s, %v", l, change, err)
		}
	}
	// The policy-checked copy authenticates with the source's password.
	strict, err := Open(simConfig(standby.srv, "strict", "Strict-Passw0rd!"))
	if err != nil {
		t.Fatal(err)
	}
	defer strict.Close()
	if err := strict.Ping(ctx); err != nil {
		t.Fatalf("copied policy-checked login cannot log in: %v", err)
	}

	// A copy made before (both OFF) is brought in line, and a policy
	// change on the source is carried over.
	mustExec(t, copyAdmin, "ALTER LOGIN [strict] WITH CHECK_POLICY = OFF")
	mustExec(t, admin, "ALTER LOGIN [relaxed] WITH CHECK_POLICY = ON, CHECK_EXPIRATION = ON")
	// A password change of a policy-checked login keeps its settings.
	mustExec(t, admin, "ALTER LOGIN [policy_only] WITH PASSWORD = N'Changed-Passw0rd!'")
	logins, err = primary.client.Logins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logins {
		if change, err := standby.client.EnsureLogin(ctx, l); err != nil || change != LoginUpdated {
			t.Fatalf("ensure changed %v: %s, %v", l, change, err)
		}
		if p, e := policyOf(t, copyAdmin, l.Name); p != l.CheckPolicy || e != l.CheckExpiration {
			t.Fatalf("updated copy of %v: check_policy=%t check_expiration=%t", l, p, e)
		}
	}
	if p, e := policyOf(t, copyAdmin, "relaxed"); !p || !e {
		t.Fatalf("relaxed after the source turned its policy on: %t %t", p, e)
	}
	changed, err := Open(simConfig(standby.srv, "policy_only", "Changed-Passw0rd!"))
	if err != nil {
		t.Fatal(err)
	}
	defer changed.Close()
	if err := changed.Ping(ctx); err != nil {
		t.Fatalf("copy after a password change: %v", err)
	}

	// CHECK_EXPIRATION without CHECK_POLICY is refused before SQL Server
	// would refuse it (15122).
	bad := logins[0]
	bad.Name, bad.SID, bad.CheckPolicy, bad.CheckExpiration = "bad", []byte{0x42}, false, true
	if _, err := standby.client.EnsureLogin(ctx, bad); err == nil || !strings.Contains(err.Error(), "CHECK_POLICY") {
		t.Fatalf("expiration without policy: %v", err)
	}
	if strings.Contains(bad.String(), hexLiteral(bad.PasswordHash)[2:]) || !strings.Contains(bad.String(), "check_expiration=ON") {
		t.Fatalf("login text %s", bad.String())
	}
}
