package logshipping

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/understudy-dev/understudy/internal/probe"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

func TestSQLCheckerProbesAndCachesClients(t *testing.T) {
	m := startMember(t, "PRIMARY")
	var password atomic.Value
	password.Store(simPassword)
	checker := NewSQLChecker(func(target probe.Target) (sqlserver.Config, error) {
		cfg := simConfig(m.srv, "sa", password.Load().(string))
		if target.Address != m.srv.Addr() {
			return sqlserver.Config{}, errors.New("unknown member")
		}
		return cfg, nil
	})
	defer checker.Close()
	var _ probe.Checker = checker
	ctx := testContext(t)
	target := probe.Target{Kind: probe.KindSQLServer, Address: m.srv.Addr()}
	for range 3 {
		if err := checker.Check(ctx, target); err != nil {
			t.Fatalf("check: %v", err)
		}
	}
	if n := checker.Cached(); n != 1 {
		t.Fatalf("%d cached clients, want 1", n)
	}
	// A changed password reopens the client; a wrong one fails the probe
	// without showing it.
	const wrong = "Wrong-Pa55word!"
	password.Store(wrong)
	err := checker.Check(ctx, target)
	wantKind(t, err, sqlserver.KindLoginFailed)
	if strings.Contains(err.Error(), wrong) {
		t.Fatalf("probe error shows the password: %v", err)
	}
	password.Store(simPassword)
	if err := checker.Check(ctx, target); err != nil {
		t.Fatalf("check after the password was fixed: %v", err)
	}
	// Through a Registry, as the probe runner uses it.
	reg := probe.NewRegistry()
	reg[probe.KindSQLServer] = checker
	if err := reg.Check(ctx, target); err != nil {
		t.Fatal(err)
	}
	if err := checker.Check(ctx, probe.Target{Kind: probe.KindTCP, Address: m.srv.Addr()}); err == nil {
		t.Fatal("checked a TCP target")
	}
	if err := checker.Check(ctx, probe.Target{Kind: probe.KindSQLServer, Address: "127.0.0.1:1"}); err == nil {
		t.Fatal("checked an unknown member")
	}
	checker.Retain([]string{"127.0.0.1:9"})
	if n := checker.Cached(); n != 0 {
		t.Fatalf("%d cached clients after Retain, want 0", n)
	}
	if err := checker.Check(ctx, target); err != nil {
		t.Fatal(err)
	}
	checker.Forget(m.srv.Addr())
	if n := checker.Cached(); n != 0 {
		t.Fatalf("%d cached clients after Forget", n)
	}
	// A crashed server fails within the target's timeout.
	m.srv.Crash()
	err = checker.Check(ctx, target)
	wantKind(t, err, sqlserver.KindUnreachable)
	// A canceled context fails at once.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := checker.Check(canceled, target); err == nil {
		t.Fatal("check with a canceled context succeeded")
	}
	if err := checker.Close(); err != nil {
		t.Fatal(err)
	}
	if err := checker.Check(ctx, target); err == nil {
		t.Fatal("check after Close succeeded")
	}
}
