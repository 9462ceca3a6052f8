// Package promotion is the contract between the failover state machine and an engine's data path:
// after a member takes the Lease and before traffic is routed to it, its Promoter makes it able to
// serve as the active one.
package promotion

import (
	"context"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// Promoter makes a member able to serve as the active one, after it holds the Lease and before
// traffic is routed to it. The generic group needs nothing beyond role labels; the SQL Server engine
// restores the remaining log backups and recovers the databases. Promote must be idempotent: it is
// repeated when the operator restarts between promotion and routing.
type Promoter interface {
	Promote(ctx context.Context, g *v1alpha1.FailoverGroup, from, to string, reason string) (Report, error)
}

// Report is what a promotion measured.
type Report struct {
	// EstimatedDataLoss is the window of writes the new active member may not have (nil: unknown
	// or not applicable).
	EstimatedDataLoss *time.Duration
	// Warnings are what the promotion could not do that a person should (the failover goes on).
	Warnings []string
}

// Generic is the promotion of groups without a data path: nothing to do.
type Generic struct{}

// Promote does nothing.
func (Generic) Promote(context.Context, *v1alpha1.FailoverGroup, string, string, string) (Report, error) {
	return Report{}, nil
}
