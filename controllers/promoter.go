package controllers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/promotion"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// Promoter makes a member able to serve as the active one (promotion.Promoter).
type Promoter = promotion.Promoter

// PromotionReport is what a promotion measured (promotion.Report).
type PromotionReport = promotion.Report

// GenericPromoter is the promotion of groups without a data path: nothing to do.
type GenericPromoter = promotion.Generic

// sqlPromoter promotes members of SQL Server groups; other groups need nothing. It reads the
// members' pods through pods and tells the time with clock.
type sqlPromoter struct {
	groups *sqlGroups
	pods   client.Reader
	clock  clock.PassiveClock
}

// Promote: an unplanned failover applies every shipped log backup and recovers the databases; a
// planned switchover takes a tail-log backup WITH NORECOVERY on the old primary first (zero data
// loss, the old primary continues as a standby); an initial election checks that the member's
// databases are online and writable.
func (p *sqlPromoter) Promote(ctx context.Context, g *v1alpha1.FailoverGroup, from, to, reason string) (PromotionReport, error) {
	if g.Spec.SQLServer == nil {
		return PromotionReport{}, nil
	}
	unlock := p.groups.lockPromotion(g)
	defer unlock()
	pods, err := listMemberPods(ctx, p.pods, g)
	if err != nil {
		return PromotionReport{}, err
	}
	v, err := p.groups.view(ctx, g, pods)
	if err != nil {
		return PromotionReport{}, err
	}
	cand, err := v.client(to)
	if err != nil {
		return PromotionReport{}, err
	}
	switch r := failover.Reason(reason); {
	case r == failover.ReasonInitialElection:
		if err := cand.HealthCheck(ctx, v.dbs, sqlserver.RolePrimary); err != nil {
			return PromotionReport{}, fmt.Errorf("elect %s: %w", to, err)
		}
		return PromotionReport{}, nil
	case r.Unplanned():
		rep, err := p.recover(ctx, g, v, cand)
		return withSettings(ctx, g, from, cand, rep, err)
	default:
		rep, err := p.switchOver(ctx, v, from, cand)
		return withSettings(ctx, g, from, cand, rep, err)
	}
}

// withSettings puts back, on the new primary, the database owner and TRUSTWORTHY the old primary
// had (recorded in its status.members[].databases[]): a restore resets both. What it may not do
// (TRUSTWORTHY needs sysadmin) becomes a warning naming the statement to run; the failover goes on.
func withSettings(ctx context.Context, g *v1alpha1.FailoverGroup, from string, cand *sqlserver.Client, rep PromotionReport, err error) (PromotionReport, error) {
	if err != nil {
		return rep, err
	}
	want := map[string]logshipping.DatabaseSettings{}
	for _, ms := range g.Status.Members {
		if ms.Name != from {
			continue
		}
		for _, d := range ms.Databases {
			if d.Owner != "" || d.Trustworthy {
				want[d.Name] = logshipping.DatabaseSettings{Owner: d.Owner, Trustworthy: d.Trustworthy}
			}
		}
	}
	if len(want) == 0 {
		return rep, nil
	}
	changes, err := logshipping.ApplyDatabaseSettings(ctx, cand, want)
	if err != nil && len(changes) == 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("could not read the databases to restore their owner and TRUSTWORTHY: %v", err))
	}
	for _, ch := range changes {
		if ch.Err != nil {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: %v; run as sysadmin: %s", ch.Database, ch.Err, ch.Statement))
		}
	}
	return rep, nil
}

// recover promotes after the old primary failed: the candidate restores every shipped log backup it
// can find and recovers; the data lost is estimated from the old primary's last sign of life.
func (p *sqlPromoter) recover(ctx context.Context, g *v1alpha1.FailoverGroup, v *sqlGroupView, cand *sqlserver.Client) (PromotionReport, error) {
	sh, _, err := v.shipper(ctx)
	if err != nil {
		return PromotionReport{}, err
	}
	files := logshipping.Files{}
	if sh != nil {
		// The old primary is down: the candidate reads the backup headers (or, when the operator
		// cannot see the directory, its history plus what the operator last read through the old
		// primary).
		if files, _, err = sh.Catalogue.ForPromotion(ctx, cand, sh.Target, v.dbs); err != nil {
			return PromotionReport{}, fmt.Errorf("list shipped backups: %w", err)
		}
	}
	res, err := logshipping.Promote(ctx, cand, files, v.dbs, lastSeen(g, p.clock.Now()))
	if err != nil || !res.Known {
		return PromotionReport{}, err
	}
	loss := res.EstimatedDataLoss
	return PromotionReport{EstimatedDataLoss: &loss}, nil
}

// switchOver is a planned move: a tail-log backup WITH NORECOVERY on the old primary, restored on the
// candidate, so nothing is lost and the old primary continues as a standby.
func (p *sqlPromoter) switchOver(ctx context.Context, v *sqlGroupView, from string, cand *sqlserver.Client) (PromotionReport, error) {
	sh, _, err := v.shipper(ctx)
	if err != nil {
		return PromotionReport{}, err
	}
	if sh == nil {
		return PromotionReport{}, fmt.Errorf("planned switchover of a SQL Server group needs spec.logShipping (the tail-log backup goes to its BackupTarget)")
	}
	old, err := v.client(from)
	if err != nil {
		return PromotionReport{}, err
	}
	if _, err := sh.PlannedSwitchover(ctx, old, cand, v.dbs, p.clock.Now()); err != nil {
		return PromotionReport{}, err
	}
	zero := time.Duration(0)
	return PromotionReport{EstimatedDataLoss: &zero}, nil
}

// lastSeen is when the old primary was last known healthy. An unplanned failover starts when the
// Lease expires, and the Lease's renewTime is the holder's last successful probe, so it is the
// failover's start minus the Lease duration.
func lastSeen(g *v1alpha1.FailoverGroup, now time.Time) time.Time {
	if p := g.Status.InProgress; p != nil {
		return p.StartedAt.Add(-seconds(g.Spec.Failover.LeaseDurationSeconds))
	}
	return now
}
