package controllers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/sqlgroup"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// SQLRegistry is the per-group state of the SQL Server path (sqlgroup.Registry): Options.SQLRegistry
// lets tests look at it.
type SQLRegistry = sqlgroup.Registry[*sqlserver.Client]

// NewSQLRegistry returns an empty registry whose pools are sqlserver.Open's.
func NewSQLRegistry() *SQLRegistry { return sqlgroup.New(sqlserver.Open) }

// sqlGroups is the SQL Server adapter shared by the FailoverGroup reconciler (health-check targets,
// promotion) and the log-shipping reconciler: it reads a group's credentials and BackupTarget and
// keeps what lives across reconciles (connection pools, the log-shipping Shipper whose catalogue
// caches backup headers, probe targets, restore times, the group's lock) in one registry entry per
// group, dropped by Forget when the group is deleted.
type sqlGroups struct {
	reader client.Reader
	// localRoots are the operator's own mounted backup directories (Options.LocalBackupRoots).
	localRoots []string
	reg        *SQLRegistry
}

func groupKey(g *v1alpha1.FailoverGroup) sqlgroup.Key {
	return sqlgroup.Key{Namespace: g.Namespace, Name: g.Name}
}

// Forget drops everything kept for a deleted group and closes its connection pools. Safe on nil.
func (s *sqlGroups) Forget(key types.NamespacedName) {
	if s != nil {
		// A log-shipping cycle still running for the group is cancelled and waited for first, so it
		// cannot bring back what is forgotten.
		unlock := s.reg.LockPreempting(key)
		s.reg.Forget(key)
		unlock()
	}
}

// lockShipping and lockPromotion serialise the SQL work of one group between the log-shipping loop
// and a failover's promotion step, so a standby is never being restored while it is promoted. A
// promotion never waits behind the loop: it cancels the loop's context (a running BACKUP or RESTORE
// is cancelled) and takes the lock (sqlgroup/preempt.go).
func (s *sqlGroups) lockShipping(ctx context.Context, g *v1alpha1.FailoverGroup) (context.Context, func()) {
	return s.reg.LockPreemptible(ctx, groupKey(g))
}

func (s *sqlGroups) lockPromotion(g *v1alpha1.FailoverGroup) (unlock func()) {
	return s.reg.LockPreempting(groupKey(g))
}

// setProbe tells the SQL Server health checker the login, databases and role to check at a member's
// probed address. Members no longer in the group's spec are dropped.
func (s *sqlGroups) setProbe(g *v1alpha1.FailoverGroup, member, address string, t sqlProbeTarget) {
	s.reg.SetProbe(groupKey(g), member, address, sqlgroup.ProbeTarget{Config: t.cfg, Databases: t.dbs, Role: t.role})
	s.reg.RetainMembers(groupKey(g), memberNames(g))
}

func memberNames(g *v1alpha1.FailoverGroup) []string {
	out := make([]string, 0, len(g.Spec.Members))
	for _, m := range g.Spec.Members {
		out = append(out, m.Name)
	}
	return out
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
	s.reg.RetainMembers(groupKey(g), memberNames(g))
	return &sqlGroupView{g: g, cfg: cfg, pods: pods, dbs: dbs, s: s}, nil
}

// client is the pooled connection to a member's SQL Server.
func (v *sqlGroupView) client(member string) (*sqlserver.Client, error) {
	i := slices.IndexFunc(v.g.Spec.Members, func(m v1alpha1.Member) bool { return m.Name == member })
	if i < 0 {
		return nil, fmt.Errorf("no member %q", member)
	}
	host, port, ok := sqlEndpoint(v.g, v.g.Spec.Members[i], v.pods[member])
	if !ok {
		return nil, fmt.Errorf("member %s has no address and no Ready pod", member)
	}
	cfg := memberSQLConfig(v.cfg, v.g, v.g.Spec.Members[i], v.pods[member], host, port)
	return v.s.reg.Pool(groupKey(v.g), member, cfg)
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
	id := fmt.Sprintf("%+v|%s|%s|%d|%t", target, ls.FullBackupSchedule, ls.LogBackupInterval.Duration, bt.Generation, ls.KeepRecoveryModel)
	sh, err := v.s.reg.Shipper(groupKey(v.g), id, func() (*logshipping.Shipper, error) {
		s, err := logshipping.NewShipper(target, ls.FullBackupSchedule, ls.LogBackupInterval.Duration)
		if err == nil {
			s.KeepRecoveryModel = ls.KeepRecoveryModel
		}
		return s, err
	})
	if err != nil {
		return nil, &bt, err
	}
	return sh, &bt, nil
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
