package controllers

import (
	"math/big"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// dataPosition summarises a SQL Server member's restored data for the failover decision: the
// lowest restored LSN over the group's databases (a member is only as current as its least
// current database) and the largest restore lag. Both are nil unless every database has a known
// position.
func dataPosition(dbs []v1alpha1.DatabasePosition, want int) (*big.Int, *time.Duration) {
	if want == 0 || len(dbs) < want {
		return nil, nil
	}
	var lowest *big.Int
	var lag time.Duration
	for _, d := range dbs {
		lsn, ok := new(big.Int).SetString(d.LSN, 10)
		if !ok {
			return nil, nil
		}
		if lowest == nil || lsn.Cmp(lowest) < 0 {
			lowest = lsn
		}
		if l := time.Duration(d.LagSeconds) * time.Second; l > lag {
			lag = l
		}
	}
	return lowest, &lag
}

// awaitingRejoin: a member fenced by an unplanned failover in a log-shipping group stays fenced
// until its databases are restoring the new primary's backups.
func awaitingRejoin(g *v1alpha1.FailoverGroup, member string) bool {
	if g.Spec.LogShipping == nil || g.Spec.SQLServer == nil {
		return false
	}
	for _, m := range g.Status.Members {
		if m.Name == member {
			return m.Role == v1alpha1.RoleFenced && !restoringAll(m.Databases, len(g.Spec.SQLServer.Databases))
		}
	}
	return false
}

// rejoinState is where member stands on its way back to being a standby (failover.RejoinState), from
// what the group's status records: its role, its health and its databases.
func rejoinState(g *v1alpha1.FailoverGroup, member string) failover.Rejoin {
	for _, m := range g.Status.Members {
		if m.Name == member {
			v := failover.MemberView{Name: m.Name, Healthy: m.Healthy, Fenced: m.Role == v1alpha1.RoleFenced,
				Rejoining: awaitingRejoin(g, member)}
			return v.RejoinState()
		}
	}
	return failover.RejoinNotFenced
}

// restoringAll reports whether every database is a log-shipping standby (sqlserver.IsStandby of the
// state the status recorded).
func restoringAll(dbs []v1alpha1.DatabasePosition, want int) bool {
	if len(dbs) < want {
		return false
	}
	for _, d := range dbs {
		if !sqlserver.IsStandby(sqlserver.ParseDescribed(d.State)) {
			return false
		}
	}
	return true
}
