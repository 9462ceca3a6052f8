package controllers

import (
	"testing"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

func TestDataPosition(t *testing.T) {
	tests := []struct {
		name     string
		dbs      []v1alpha1.DatabasePosition
		want     int
		wantLSN  string
		wantLag  time.Duration
		wantNone bool
	}{
		{name: "lowest LSN and largest lag", want: 2, wantLSN: "42000000001200001", wantLag: 90 * time.Second,
			dbs: []v1alpha1.DatabasePosition{{Name: "a", LSN: "99000000001200001", LagSeconds: 30}, {Name: "b", LSN: "42000000001200001", LagSeconds: 90}}},
		{name: "LSNs beyond int64", want: 1, wantLSN: "123456789012345678901234", wantLag: 0,
			dbs: []v1alpha1.DatabasePosition{{Name: "a", LSN: "123456789012345678901234"}}},
		{name: "a database without position", want: 2, wantNone: true,
			dbs: []v1alpha1.DatabasePosition{{Name: "a", LSN: "1"}}},
		{name: "an unparsable LSN", want: 1, wantNone: true, dbs: []v1alpha1.DatabasePosition{{Name: "a", LSN: "x"}}},
		{name: "not a SQL group", want: 0, wantNone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos, lag := dataPosition(tt.dbs, tt.want)
			if tt.wantNone {
				if pos != nil || lag != nil {
					t.Fatalf("got %v %v, want none", pos, lag)
				}
				return
			}
			if pos == nil || pos.String() != tt.wantLSN || lag == nil || *lag != tt.wantLag {
				t.Fatalf("got %v %v, want %s %s", pos, lag, tt.wantLSN, tt.wantLag)
			}
		})
	}
}
