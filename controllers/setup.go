// Package controllers holds the thin reconcilers of understudy: they read the world, hand it to the
// plain-Go domain packages under internal/, act on the result and write status.
package controllers

import (
	"fmt"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/event"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/addresspolicy"
	"github.com/understudy-dev/understudy/internal/lease"
	"github.com/understudy-dev/understudy/internal/notify"
	"github.com/understudy-dev/understudy/internal/probe"
)

// Options are shared by every controller.
type Options struct {
	// Clock tells the time; tests may inject another.
	Clock clock.WithTicker
	// Promoter promotes a member during a failover; nil means the built-in one (nothing for generic
	// groups; log restores and RESTORE WITH RECOVERY for SQL Server groups).
	Promoter Promoter
	// Checkers are the health checks by kind; nil means TCP and HTTP.
	Checkers probe.Registry
	// AfterStep is a test hook called after each recorded failover step.
	AfterStep func(group string, step v1alpha1.FailoverStep) error
	// OperatorImage is the operator's own image, run by backup prune Jobs.
	OperatorImage string
	// LocalBackupRoots are directories mounted in the operator's own container (e.g. the backup
	// volume): a BackupTarget path under one of them is listed directly instead of through msdb
	// history. Nothing else on the operator's filesystem is ever looked at because of a user's spec.
	LocalBackupRoots []string
	// MemberAddresses limits the addresses members may name (empty: any the API accepts).
	MemberAddresses addresspolicy.Policy
	// ControllerName distinguishes controllers when several managers run in one process (tests).
	ControllerName string
	// SQLRegistry keeps the per-group state of SQL Server groups (connection pools, Shippers, probe
	// targets, restore times); nil means a new one. Tests pass their own to look at it.
	SQLRegistry *SQLRegistry
	// WebhookAllowLocalTargets lets webhooks reach loopback, link-local (cloud metadata) and the
	// API server's address, which are refused by default (notify.DispatcherOptions.AllowLocalTargets).
	WebhookAllowLocalTargets bool
}

// SetupWithManager registers every understudy controller, the probe runner and the webhook
// dispatcher with the manager.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	sql := opts.withDefaults(mgr)
	registerMetrics()
	probeEvents := make(chan event.GenericEvent, 1024)
	runner, dispatcher, err := addBackground(mgr, opts, probeEvents)
	if err != nil {
		return err
	}
	leases := &lease.Store{Client: mgr.GetClient(), Scheme: mgr.GetScheme()}
	fg := &FailoverGroupReconciler{
		Client:      mgr.GetClient(),
		APIReader:   mgr.GetAPIReader(),
		Scheme:      mgr.GetScheme(),
		Clock:       opts.Clock,
		Recorder:    mgr.GetEventRecorder("understudy"),
		Runner:      runner,
		Addresses:   opts.MemberAddresses,
		Checkers:    opts.Checkers,
		Notifier:    dispatcher,
		Promoter:    opts.Promoter,
		Leases:      leases,
		AfterStep:   opts.AfterStep,
		SQL:         sql,
		probeEvents: probeEvents,
	}
	if fg.Promoter == nil {
		fg.Promoter = &sqlPromoter{groups: sql, pods: mgr.GetClient(), clock: opts.Clock}
	}
	if err := fg.SetupWithManager(mgr, opts.ControllerName); err != nil {
		return fmt.Errorf("failovergroup controller: %w", err)
	}
	ls := &LogShippingReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(), Clock: opts.Clock,
		Recorder: mgr.GetEventRecorder("understudy-logshipping"), Notifier: dispatcher, SQL: sql, Leases: leases, OperatorImage: opts.OperatorImage}
	if err := ls.SetupWithManager(mgr, opts.ControllerName+"-logshipping"); err != nil {
		return fmt.Errorf("log shipping controller: %w", err)
	}
	return nil
}

// withDefaults fills the options left empty and returns the SQL Server adapter both reconcilers
// share.
func (opts *Options) withDefaults(mgr ctrl.Manager) *sqlGroups {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.SQLRegistry == nil {
		opts.SQLRegistry = NewSQLRegistry()
	}
	sql := &sqlGroups{reader: mgr.GetAPIReader(), localRoots: opts.LocalBackupRoots, reg: opts.SQLRegistry}
	if opts.Checkers == nil {
		opts.Checkers = probe.NewRegistry()
		opts.Checkers[probe.KindSQLServer] = &sqlHealthChecker{groups: sql}
	}
	if opts.ControllerName == "" {
		opts.ControllerName = "failovergroup"
	}
	return sql
}

// addBackground adds the probe runner (its changes wake groups through probeEvents) and the
// webhook dispatcher to the manager.
func addBackground(mgr ctrl.Manager, opts Options, probeEvents chan event.GenericEvent) (*probe.Runner, *notify.Dispatcher, error) {
	runner := probe.NewRunner(probe.RunnerOptions{
		Clock:    opts.Clock,
		Checkers: opts.Checkers,
		Logger:   mgr.GetLogger().WithName("probe"),
		Metrics:  probeMetrics,
		OnChange: groupChangedSender(probeEvents),
	})
	if err := mgr.Add(runner); err != nil {
		return nil, nil, fmt.Errorf("add probe runner: %w", err)
	}
	dispatcher := notify.NewDispatcher(notify.DispatcherOptions{
		Clock:   opts.Clock,
		Logger:  mgr.GetLogger().WithName("webhooks"),
		Metrics: notifyMetrics,
		// Tests' receivers listen on 127.0.0.1.
		AllowLocalTargets: opts.WebhookAllowLocalTargets,
	})
	if err := mgr.Add(dispatcher); err != nil {
		return nil, nil, fmt.Errorf("add webhook dispatcher: %w", err)
	}
	return runner, dispatcher, nil
}
