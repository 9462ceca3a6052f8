package controllers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// sqlGroups holds what the SQL Server path keeps per group across reconciles: connection pools and
// the log-shipping Shipper (whose catalogue caches backup headers). Shared by the FailoverGroup
// reconciler (promotion) and the log-shipping reconciler.
type sqlGroups struct {
	reader client.Reader
	// localRoots are the operator's own mounted backup directories (Options.LocalBackupRoots).
	localRoots []string
	clients    sqlClients
	locks      groupLocks

	mu       sync.Mutex
	shippers map[string]*cachedShipper
}

type cachedShipper struct {
	key     string // what the Shipper was built from
	shipper *logshipping.Shipper
}

// sqlGroupView is one group's SQL Server access for one reconcile.
type sqlGroupView struct {
	g    *v1alpha1.FailoverGroup
	cfg  sqlserver.Config
	pods map[string]memberPods
	dbs  []string
	s    *sqlGroups
}

func (s *sqlGroups) view(ctx context.Context, g *v1alpha1.FailoverGroup, pods map[string]memberPods) (*sqlGroupView, error) {
	cfg, err := sqlCredentials(ctx, s.reader, g)
	if err != nil {
		return nil, err
	}
	dbs := databaseNames(g.Spec.SQLServer.Databases)
	return &sqlGroupView{g: g, cfg: cfg, pods: pods, dbs: dbs, s: s}, nil
}

// client is the pooled connection to a member's SQL Server.
func (v *sqlGroupView) client(member string) (*sqlserver.Client, error) {
	m := memberByName(v.g, member)
	if m == nil {
		return nil, fmt.Errorf("no member %q", member)
	}
	host, port, ok := sqlEndpoint(v.g, *m, v.pods[member])
	if !ok {
		return nil, fmt.Errorf("member %s has no address and no Ready pod", member)
	}
	cfg := v.cfg
	cfg.Host, cfg.Port = host, port
	return v.s.clients.get(v.g.Namespace+"/"+v.g.Name+"/"+member, cfg)
}

// shipper is the group's Shipper for its BackupTarget (nil, nil without spec.logShipping).
func (v *sqlGroupView) shipper(ctx context.Context) (*logshipping.Shipper, *v1alpha1.BackupTarget, error) {
	ls := v.g.Spec.LogShipping
	if ls == nil {
		return nil, nil, nil
	}
	var bt v1alpha1.BackupTarget
	if err := v.s.reader.Get(ctx, client.ObjectKey{Namespace: v.g.Namespace, Name: ls.BackupTargetRef.Name}, &bt); err != nil {
		return nil, nil, fmt.Errorf("backup target %s: %w", ls.BackupTargetRef.Name, err)
	}
	if err := bt.Validate(); err != nil {
		return nil, &bt, fmt.Errorf("backup target %s is invalid: %w", bt.Name, err)
	}
	target := logshipping.Target{Root: bt.Spec.Path, Namespace: v.g.Namespace, Group: v.g.Name,
		Compression: bt.Spec.Compression == nil || *bt.Spec.Compression,
		Checksum:    bt.Spec.Checksum == nil || *bt.Spec.Checksum}
	// When the operator sees the backup directory too (the same volume mounted at the same path,
	// and declared with --local-backup-root), it lists files itself; otherwise it reads the primary's
	// msdb backup history. A path outside those roots is never looked at on the operator's filesystem.
	if underRoot(bt.Spec.Path, v.s.localRoots) {
		if st, err := os.Stat(bt.Spec.Path); err == nil && st.IsDir() {
			target.LocalRoot = bt.Spec.Path
		}
	}
	key := fmt.Sprintf("%+v|%s|%s|%d", target, ls.FullBackupSchedule, ls.LogBackupInterval.Duration, bt.Generation)
	gk := v.g.Namespace + "/" + v.g.Name
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	if cur, ok := v.s.shippers[gk]; ok && cur.key == key {
		return cur.shipper, &bt, nil
	}
	sh, err := logshipping.NewShipper(target, ls.FullBackupSchedule, ls.LogBackupInterval.Duration)
	if err != nil {
		return nil, &bt, err
	}
	if v.s.shippers == nil {
		v.s.shippers = map[string]*cachedShipper{}
	}
	v.s.shippers[gk] = &cachedShipper{key: key, shipper: sh}
	return sh, &bt, nil
}

// sqlPromoter promotes members of SQL Server groups; other groups need nothing.
type sqlPromoter struct {
	groups *sqlGroups
	r      *FailoverGroupReconciler
}

// Promote: an unplanned failover applies every shipped log backup and recovers the databases; a
// planned switchover takes a tail-log backup WITH NORECOVERY on the old primary first (zero data
// loss, the old primary continues as a standby); an initial election checks that the member's
// databases are online and writable.
func (p *sqlPromoter) Promote(ctx context.Context, g *v1alpha1.FailoverGroup, from, to, reason string) (PromotionReport, error) {
	if g.Spec.SQLServer == nil {
		return PromotionReport{}, nil
	}
	unlock := p.groups.locks.lock(g.Namespace + "/" + g.Name)
	defer unlock()
	pods, err := p.r.listMemberPods(ctx, g)
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
	now := p.r.Clock.Now()
	switch {
	case failover.Reason(reason) == failover.ReasonInitialElection:
		if err := cand.HealthCheck(ctx, v.dbs, sqlserver.RolePrimary); err != nil {
			return PromotionReport{}, fmt.Errorf("elect %s: %w", to, err)
		}
		return PromotionReport{}, nil
	case failover.Reason(reason).Unplanned():
		sh, _, err := v.shipper(ctx)
		if err != nil {
			return PromotionReport{}, err
		}
		files := logshipping.Files{}
		if sh != nil {
			// The old primary is down: the candidate reads the backup headers (or, when the
			// operator cannot see the directory, its history plus what the operator last read
			// through the old primary).
			if files, _, err = sh.Catalogue.ForPromotion(ctx, cand, sh.Target, v.dbs); err != nil {
				return PromotionReport{}, fmt.Errorf("list shipped backups: %w", err)
			}
		}
		res, err := logshipping.Promote(ctx, cand, files, v.dbs, lastSeen(g, now))
		if err != nil {
			return PromotionReport{}, err
		}
		if !res.Known {
			return PromotionReport{}, nil
		}
		loss := res.EstimatedDataLoss
		return PromotionReport{EstimatedDataLoss: &loss}, nil
	default:
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
		if _, err := sh.PlannedSwitchover(ctx, old, cand, v.dbs, now); err != nil {
			return PromotionReport{}, err
		}
		zero := time.Duration(0)
		return PromotionReport{EstimatedDataLoss: &zero}, nil
	}
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

// underRoot reports whether path is one of roots or inside one (paths are clean: the API refuses
// relative paths and . or .. segments, and BackupTarget.Validate checks again).
func underRoot(path string, roots []string) bool {
	for _, r := range roots {
		r = strings.TrimSuffix(filepath.Clean(r), "/")
		if r == "" || r == "." {
			continue
		}
		if path == r || strings.HasPrefix(path, r+"/") {
			return true
		}
	}
	return false
}
