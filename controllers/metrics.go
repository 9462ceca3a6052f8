package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/understudy-dev/understudy/internal/notify"
	"github.com/understudy-dev/understudy/internal/probe"
)

var (
	failoversTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "understudy_failovers_total",
		Help: "Changes of a group's active member, by reason (InitialElection, Failover, Switchover, Failback).",
	}, []string{"group", "reason"})
	failoverDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "understudy_failover_duration_seconds",
		Help:    "Time from the start of a failover (fencing) to routing pointing at the new active member.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64},
	}, []string{"reason"})

	// probeMetrics and notifyMetrics are shared by every runner and dispatcher of the process.
	probeMetrics  = probe.NewMetrics()
	notifyMetrics = notify.NewMetrics()

	registerOnce sync.Once
)

// registerMetrics adds understudy's metrics to controller-runtime's registry (served by the
// manager's metrics endpoint), once per process.
func registerMetrics() {
	registerOnce.Do(func() {
		metrics.Registry.MustRegister(failoversTotal, failoverDuration, restoreLag, backupAge)
		if err := probeMetrics.Register(metrics.Registry); err != nil {
			panic(err)
		}
		if err := notifyMetrics.Register(metrics.Registry); err != nil {
			panic(err)
		}
	})
}

var (
	restoreLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "understudy_restore_lag_seconds",
		Help: "How far a standby's restored data trails the newest shipped backup, per database.",
	}, []string{"group", "member", "database"})
	backupAge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "understudy_backup_age_seconds",
		Help: "Seconds since the newest backup (full or log) of a database finished.",
	}, []string{"group", "database"})
)
