package probe

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names exported by this package.
const (
	ProbeDurationMetric = "understudy_probe_duration_seconds"
	MemberHealthyMetric = "understudy_member_healthy"
)

// Probe result label values.
const (
	resultSuccess = "success"
	resultFailure = "failure"
)

// Metrics holds the probe collectors. Create it with NewMetrics, register it
// (e.g. into controller-runtime's metrics.Registry) and pass it to NewRunner.
type Metrics struct {
	probeDuration *prometheus.HistogramVec
	memberHealthy *prometheus.GaugeVec
}

// NewMetrics returns unregistered probe metrics:
//   - understudy_probe_duration_seconds{kind,result} histogram,
//   - understudy_member_healthy{group,member} gauge (1 healthy, 0 unhealthy;
//     no series while a member's health is unknown or after it is removed).
func NewMetrics() *Metrics {
	return &Metrics{
		probeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    ProbeDurationMetric,
			Help:    "Duration of member health probes.",
			Buckets: prometheus.DefBuckets,
		}, []string{"kind", "result"}),
		memberHealthy: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MemberHealthyMetric,
			Help: "Whether a FailoverGroup member is healthy (1) or not (0).",
		}, []string{"group", "member"}),
	}
}

// Register registers all probe collectors with reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.probeDuration, m.memberHealthy} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register probe metrics: %w", err)
		}
	}
	return nil
}

func (m *Metrics) observeProbe(kind Kind, probeErr error, took time.Duration) {
	result := resultSuccess
	if probeErr != nil {
		result = resultFailure
	}
	m.probeDuration.WithLabelValues(string(kind), result).Observe(took.Seconds())
}

func (m *Metrics) setMemberHealth(group, member string, s State) {
	if !s.Known {
		m.memberHealthy.DeleteLabelValues(group, member)
		return
	}
	value := 0.0
	if s.Healthy {
		value = 1
	}
	m.memberHealthy.WithLabelValues(group, member).Set(value)
}

func (m *Metrics) forgetMember(group, member string) {
	m.memberHealthy.DeleteLabelValues(group, member)
}

func (m *Metrics) forgetGroup(group string) {
	m.memberHealthy.DeletePartialMatch(prometheus.Labels{"group": group})
}
