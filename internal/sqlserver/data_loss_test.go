package sqlserver

import (
	"testing"
	"time"
)

func TestEstimateDataLoss(t *testing.T) {
	now := planBase.Add(time.Hour)
	tests := []struct {
		name                   string
		newestBackup, restored time.Time
		want                   DataLossEstimate
		wantWorst              time.Duration
	}{
		{name: "standby behind", newestBackup: now.Add(-time.Minute), restored: now.Add(-5 * time.Minute),
			want: DataLossEstimate{NotBackedUp: time.Minute, NotRestored: 4 * time.Minute, Known: true}, wantWorst: 5 * time.Minute},
		{name: "caught up", newestBackup: now.Add(-30 * time.Second), restored: now.Add(-30 * time.Second),
			want: DataLossEstimate{NotBackedUp: 30 * time.Second, Known: true}, wantWorst: 30 * time.Second},
		{name: "clock skew clamps to zero", newestBackup: now.Add(time.Minute), restored: now.Add(2 * time.Minute),
			want: DataLossEstimate{Known: true}},
		{name: "no backup known", restored: now, want: DataLossEstimate{}},
		{name: "nothing restored", newestBackup: now, want: DataLossEstimate{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := EstimateDataLoss(now, tc.newestBackup, tc.restored)
			if got != tc.want || got.Worst() != tc.wantWorst {
				t.Fatalf("EstimateDataLoss = %+v (worst %v), want %+v (worst %v)", got, got.Worst(), tc.want, tc.wantWorst)
			}
		})
	}
}
