package probe

import (
	"context"
	"fmt"
	"net"
)

// TCPChecker reports a member healthy when a TCP connection to its address is
// established within the Target's Timeout. The connection is closed at once.
type TCPChecker struct{}

// Check dials t.Address.
func (TCPChecker) Check(ctx context.Context, t Target) error {
	t = t.WithDefaults()
	dialer := net.Dialer{Timeout: t.Timeout}
	conn, err := dialer.DialContext(ctx, "tcp", t.Address)
	if err != nil {
		return fmt.Errorf("tcp probe %s: %w", t.Address, err)
	}
	// The connection was established, which is all this check asks; an error
	// while closing it says nothing about the member's health.
	_ = conn.Close()
	return nil
}
