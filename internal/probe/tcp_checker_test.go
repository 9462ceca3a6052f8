package probe

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestTCPChecker(t *testing.T) {
	live, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = live.Close() })

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		address string
		wantErr bool
	}{
		{name: "listening port is healthy", address: live.Addr().String()},
		{name: "closed port is unhealthy", address: closedAddr, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := TCPChecker{}.Check(context.Background(), Target{Kind: KindTCP, Address: tt.address})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Check() error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tt.address) {
				t.Errorf("error %q does not name the address %s", err, tt.address)
			}
		})
	}
}

func TestTCPCheckerHonoursCancelledContext(t *testing.T) {
	live, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = live.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (TCPChecker{}).Check(ctx, Target{Kind: KindTCP, Address: live.Addr().String()}); err == nil {
		t.Fatal("Check() with a cancelled context succeeded")
	}
}
