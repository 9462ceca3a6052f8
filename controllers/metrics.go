package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/internal/failover"
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
		metrics.Registry.MustRegister(failoversTotal, failoverDuration, restoreLag, backupAge, failoverReady, failoverCandidate, dataAtRisk)
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

// What the operator would do if a group's active member failed now (status.failoverReadiness).
var (
	failoverReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "understudy_failover_ready",
		Help: "1 when an automatic failover could happen now without breaking maxDataLoss (the FailoverReady condition), else 0.",
	}, []string{"group"})
	failoverCandidate = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "understudy_failover_candidate",
		Help: "1 for the member a failover now would promote (one series per group; none when no member could take over).",
	}, []string{"group", "member"})
	dataAtRisk = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "understudy_data_at_risk_seconds",
		Help: "How far the failover candidate's restored data trails the newest shipped backup: what a failover now would lose at least (absent when unknown).",
	}, []string{"group"})
)

// observeReadiness puts a group's readiness into the metrics.
func observeReadiness(g *v1alpha1.FailoverGroup, r failover.Readiness) {
	key := g.Namespace + "/" + g.Name
	ready := 0.0
	if r.Ready {
		ready = 1
	}
	failoverReady.WithLabelValues(key).Set(ready)
	failoverCandidate.DeletePartialMatch(prometheus.Labels{"group": key})
	if r.Candidate != "" {
		failoverCandidate.WithLabelValues(key, r.Candidate).Set(1)
	}
	if r.DataAtRisk != nil {
		dataAtRisk.WithLabelValues(key).Set(r.DataAtRisk.Seconds())
	} else {
		dataAtRisk.DeleteLabelValues(key)
	}
}

// forgetReadiness removes a deleted group's readiness series.
func forgetReadiness(key string) {
	failoverReady.DeleteLabelValues(key)
	failoverCandidate.DeletePartialMatch(prometheus.Labels{"group": key})
	dataAtRisk.DeleteLabelValues(key)
}
