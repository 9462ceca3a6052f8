package controllers

import (
	"context"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// Promoter makes a member able to serve as the active one, after it holds the Lease and before
// traffic is routed to it. The generic group needs nothing beyond role labels; the SQL Server engine
// restores the remaining log backups and recovers the databases. Promote must be idempotent: it is
// repeated when the operator restarts between promotion and routing.
type Promoter interface {
	Promote(ctx context.Context, g *v1alpha1.FailoverGroup, from, to string, reason string) error
}

// noopPromoter is the generic promotion: nothing to do.
type noopPromoter struct{}

func (noopPromoter) Promote(context.Context, *v1alpha1.FailoverGroup, string, string, string) error {
	return nil
}
