package sqlserver

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// assertNoSecret fails when text contains secret.
func assertNoSecret(t *testing.T, what, text, secret string) {
	t.Helper()
	if strings.Contains(text, secret) {
		t.Fatalf("%s contains the password: %s", what, text)
	}
}

func TestWrongPasswordIsLoginFailedWithoutPassword(t *testing.T) {
	inst := startInstance(t, "PRIMARY")
	const wrong = "Wrong-Passw0rd-XYZ"
	c, err := Open(simConfig(inst.srv, "sa", wrong))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testContext(t)
	checks := map[string]error{}
	checks["Ping"] = c.Ping(ctx)
	checks["HealthCheck"] = c.HealthCheck(ctx, []string{"master"}, RolePrimary)
	_, checks["ServerInfo"] = c.ServerInfo(ctx)
	for name, err := range checks {
		wantKind(t, err, KindLoginFailed)
		if !HasErrorNumber(err, ErrNumLoginFailed) {
			t.Fatalf("%s: numbers %v, want 18456", name, ErrorNumbers(err))
		}
		for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			assertNoSecret(t, name+" error", text, wrong)
		}
	}
	// The right password works on the same instance.
	if err := inst.client.Ping(ctx); err != nil {
		t.Fatalf("ping with the right password: %v", err)
	}
}

func TestUnreachableServerIsUnreachable(t *testing.T) {
	// A port nobody listens on: listen, note the port, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	const secret = "Unreachable-Secret-123"
	c, err := Open(Config{Host: "127.0.0.1", Port: port, Username: "sa", Password: secret, Encrypt: EncryptDisable, ConnectTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Ping(testContext(t))
	wantKind(t, err, KindUnreachable)
	if !Classify(err).Retryable() {
		t.Fatal("unreachable must be retryable")
	}
	assertNoSecret(t, "unreachable error", err.Error(), secret)
	if !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Fatalf("error does not name the address: %v", err)
	}
}

func TestHangingServerTimesOutAsUnreachable(t *testing.T) {
	inst := startInstance(t, "PRIMARY")
	c, err := Open(Config{Host: inst.srv.Host(), Port: inst.srv.Port(), Username: "sa", Password: simPassword,
		Encrypt: EncryptDisable, StatementTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testContext(t)
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	inst.srv.SetHang(time.Minute)
	defer inst.srv.SetHang(0)
	start := time.Now()
	err = c.Ping(ctx)
	wantKind(t, err, KindUnreachable)
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("statement timeout not applied: took %v", elapsed)
	}
	// The caller's own cancellation is not reported as a server problem.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	wantKind(t, c.Ping(canceled), KindCanceled)
}

func TestServerInfoAndDefaultPaths(t *testing.T) {
	inst := startInstance(t, "PRIMARY")
	ctx := testContext(t)
	info, err := inst.client.ServerInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.ServerName != "PRIMARY" || info.ProductVersion == "" || info.MajorVersion() != 16 ||
		info.Edition != "Developer Edition (64-bit)" || info.EngineEdition != 3 {
		t.Fatalf("server info: %+v (major %d)", info, info.MajorVersion())
	}
	paths, err := inst.client.DefaultPaths(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(paths.Data, inst.srv.DataDir()) || paths.Log == "" {
		t.Fatalf("default paths %+v, want under %s", paths, inst.srv.DataDir())
	}
	data, err := inst.client.DefaultDataPath(ctx)
	if err != nil || data != paths.Data {
		t.Fatalf("DefaultDataPath = %q, %v; want %q", data, err, paths.Data)
	}
}

func TestDatabasesReportsStatesAndMissing(t *testing.T) {
	primary, standby := startInstance(t, "PRIMARY"), startInstance(t, "STANDBY")
	dir := backupDir(t)
	s := createShop(t, primary, "Shop")
	s.insert(t, 1)
	seedStandby(t, primary, standby, "Shop", dir, RestoreOptions{})
	ctx := testContext(t)
	states, err := standby.client.Databases(ctx, []string{"shop", "nosuch", "master"})
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 3 {
		t.Fatalf("states: %+v", states)
	}
	shop := states["shop"]
	if !shop.Exists || shop.Name != "Shop" || shop.State != StateRestoring || shop.RecoveryModel != RecoveryFull || shop.UserAccess != UserAccessMulti {
		t.Fatalf("shop (matched case-insensitively): %+v", shop)
	}
	if st := states["nosuch"]; st.Exists || st.Name != "nosuch" || st.Describe() != StateMissing {
		t.Fatalf("missing database: %+v", st)
	}
	if st := states["master"]; !st.Writable() {
		t.Fatalf("master: %+v", st)
	}
	empty, err := standby.client.Databases(ctx, nil)
	if err != nil || len(empty) != 0 {
		t.Fatalf("no names: %v, %v", empty, err)
	}
	if _, err := standby.client.Databases(ctx, []string{"bad\x00name"}); err == nil {
		t.Fatal("a name with a NUL must be refused")
	}
}
