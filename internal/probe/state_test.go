package probe

import (
	"errors"
	"testing"
	"time"
)

func TestStateObserve(t *testing.T) {
	var ok error
	fail := errors.New("connection refused")
	healthy := State{Known: true, Healthy: true, ConsecutiveSuccesses: 5}
	unhealthy := State{Known: true, Healthy: false, ConsecutiveFailures: 5, LastError: "old"}
	type step struct {
		result      error
		wantHealthy bool
		wantChanged bool
	}
	tests := []struct {
		name       string
		thresholds Thresholds
		start      State
		steps      []step
		wantFails  int
		wantOKs    int
	}{
		{
			name: "first success decides healthy", thresholds: Thresholds{Failure: 3, Success: 2},
			steps:     []step{{ok, true, true}},
			wantFails: 0, wantOKs: 1,
		},
		{
			name: "first failure decides unhealthy", thresholds: Thresholds{Failure: 3, Success: 2},
			steps:     []step{{fail, false, true}},
			wantFails: 1, wantOKs: 0,
		},
		{
			name: "healthy flips only at the failure threshold", thresholds: Thresholds{Failure: 3, Success: 2},
			start:     healthy,
			steps:     []step{{fail, true, false}, {fail, true, false}, {fail, false, true}, {fail, false, false}},
			wantFails: 4, wantOKs: 0,
		},
		{
			name: "a success resets the failure streak", thresholds: Thresholds{Failure: 3, Success: 2},
			start:     healthy,
			steps:     []step{{fail, true, false}, {fail, true, false}, {ok, true, false}, {fail, true, false}, {fail, true, false}},
			wantFails: 2, wantOKs: 0,
		},
		{
			name: "unhealthy recovers at the success threshold", thresholds: Thresholds{Failure: 3, Success: 2},
			start:     unhealthy,
			steps:     []step{{ok, false, false}, {ok, true, true}, {ok, true, false}},
			wantFails: 0, wantOKs: 3,
		},
		{
			name: "a failure resets the success streak", thresholds: Thresholds{Failure: 3, Success: 2},
			start:     unhealthy,
			steps:     []step{{ok, false, false}, {fail, false, false}, {ok, false, false}, {ok, true, true}},
			wantFails: 0, wantOKs: 2,
		},
		{
			name: "thresholds of one flip on every change", thresholds: Thresholds{Failure: 1, Success: 1},
			start:     healthy,
			steps:     []step{{fail, false, true}, {ok, true, true}, {ok, true, false}},
			wantFails: 0, wantOKs: 2,
		},
		{
			name: "zero thresholds mean the defaults (3 and 1)", thresholds: Thresholds{},
			start:     healthy,
			steps:     []step{{fail, true, false}, {fail, true, false}, {fail, false, true}, {ok, true, true}},
			wantFails: 0, wantOKs: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			s := tt.start
			for i, st := range tt.steps {
				at := base.Add(time.Duration(i+1) * time.Second)
				prev := s
				var changed bool
				s, changed = s.Observe(st.result, at, tt.thresholds)
				if !s.Known || s.Healthy != st.wantHealthy || changed != st.wantChanged {
					t.Fatalf("step %d: got known=%v healthy=%v changed=%v, want healthy=%v changed=%v",
						i, s.Known, s.Healthy, changed, st.wantHealthy, st.wantChanged)
				}
				if !s.LastProbeTime.Equal(at) {
					t.Errorf("step %d: LastProbeTime = %v, want %v", i, s.LastProbeTime, at)
				}
				wantTransition := prev.LastTransitionTime
				if changed {
					wantTransition = at
				}
				if !s.LastTransitionTime.Equal(wantTransition) {
					t.Errorf("step %d: LastTransitionTime = %v, want %v", i, s.LastTransitionTime, wantTransition)
				}
				wantErr := ""
				if st.result != nil {
					wantErr = st.result.Error()
				}
				if s.LastError != wantErr {
					t.Errorf("step %d: LastError = %q, want %q", i, s.LastError, wantErr)
				}
			}
			if s.ConsecutiveFailures != tt.wantFails || s.ConsecutiveSuccesses != tt.wantOKs {
				t.Errorf("counters = %d failures, %d successes; want %d, %d",
					s.ConsecutiveFailures, s.ConsecutiveSuccesses, tt.wantFails, tt.wantOKs)
			}
		})
	}
}

func TestStateMarkDown(t *testing.T) {
	earlier := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	at := earlier.Add(time.Minute)
	tests := []struct {
		name           string
		start          State
		wantChanged    bool
		wantTransition time.Time
	}{
		{name: "unknown member becomes known down", start: State{}, wantChanged: true, wantTransition: at},
		{
			name:        "healthy member goes down at once",
			start:       State{Known: true, Healthy: true, ConsecutiveSuccesses: 7, LastTransitionTime: earlier},
			wantChanged: true, wantTransition: at,
		},
		{
			name:        "unhealthy member stays down without a transition",
			start:       State{Known: true, ConsecutiveFailures: 2, ConsecutiveSuccesses: 0, LastTransitionTime: earlier},
			wantChanged: false, wantTransition: earlier,
		},
		{
			name:        "recovering member loses its success streak",
			start:       State{Known: true, ConsecutiveSuccesses: 1, LastTransitionTime: earlier},
			wantChanged: false, wantTransition: earlier,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, changed := tt.start.MarkDown("all pods NotReady", at)
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if !s.Known || s.Healthy || s.ConsecutiveSuccesses != 0 || s.LastError != "all pods NotReady" {
				t.Errorf("state after MarkDown = %+v", s)
			}
			if s.ConsecutiveFailures != tt.start.ConsecutiveFailures {
				t.Errorf("ConsecutiveFailures = %d, want unchanged %d", s.ConsecutiveFailures, tt.start.ConsecutiveFailures)
			}
			if !s.LastTransitionTime.Equal(tt.wantTransition) {
				t.Errorf("LastTransitionTime = %v, want %v", s.LastTransitionTime, tt.wantTransition)
			}
		})
	}
}

func TestStateMarkDownNeedsSuccessThresholdToRecover(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	th := Thresholds{Failure: 3, Success: 2}
	s, _ := State{Known: true, Healthy: true}.MarkDown("pods gone", at)
	s, changed := s.Observe(nil, at, th)
	if s.Healthy || changed {
		t.Fatalf("one success after MarkDown: healthy=%v changed=%v, want still down", s.Healthy, changed)
	}
	s, changed = s.Observe(nil, at, th)
	if !s.Healthy || !changed {
		t.Fatalf("two successes after MarkDown: healthy=%v changed=%v, want up", s.Healthy, changed)
	}
}
