package v1alpha1

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
)

func TestDurationDecodesAnythingAndKeepsIt(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: `"90s"`, want: 90 * time.Second},
		{in: `"1h30m"`, want: 90 * time.Minute},
		{in: `"0s"`},
		{in: `"five minutes"`, wantErr: `"five minutes" is not a duration`},
		{in: `"9999999999h"`, wantErr: `"9999999999h" is not a duration`},
		{in: `"90000000h"`, wantErr: `is not a duration`},
		{in: `300`, wantErr: `"300" is not a duration`},
		{in: `""`, wantErr: `is not a duration`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d Duration
			if err := json.Unmarshal([]byte(tt.in), &d); err != nil {
				t.Fatalf("Unmarshal(%s) = %v: a Duration must never fail to decode", tt.in, err)
			}
			if tt.wantErr == "" {
				if d.Err() != nil || d.Duration != tt.want {
					t.Fatalf("got %v (%v), want %v", d.Duration, d.Err(), tt.want)
				}
				return
			}
			if d.Err() == nil || !strings.Contains(d.Err().Error(), tt.wantErr) {
				t.Fatalf("Err() = %v, want it to contain %q", d.Err(), tt.wantErr)
			}
			out, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if tt.in != `300` && tt.in != `""` && string(out) != tt.in {
				t.Errorf("written back as %s, want the stored text %s unchanged", out, tt.in)
			}
		})
	}
}

func TestSpecThatDoesNotFitItsTypeDecodesAlone(t *testing.T) {
	list := `{"items":[
	  {"metadata":{"name":"bad"},"spec":{"members":[{"name":"a","priority":99999999999}],"healthCheck":{}}},
	  {"metadata":{"name":"good"},"spec":{"members":[{"name":"a","priority":1}],"healthCheck":{},"failover":{"maxDataLoss":"five minutes"}}}]}`
	var l FailoverGroupList
	if err := json.Unmarshal([]byte(list), &l); err != nil {
		t.Fatalf("one bad item failed the whole list: %v", err)
	}
	bad, good := l.Items[0], l.Items[1]
	if err := bad.Spec.DecodeError(); err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Errorf("DecodeError() = %v", err)
	}
	if err := bad.Validate(); err == nil {
		t.Error("Validate() accepted an undecodable spec")
	}
	out, err := json.Marshal(bad.Spec)
	if err != nil || !strings.Contains(string(out), "99999999999") {
		t.Errorf("an undecodable spec must be written back as stored: %s %v", out, err)
	}
	if good.Spec.DecodeError() != nil || good.Spec.Members[0].Name != "a" {
		t.Errorf("the other item was not decoded: %+v", good.Spec)
	}
	if err := good.Validate(); err == nil || !strings.Contains(err.Error(), "spec.failover.maxDataLoss") {
		t.Errorf("Validate() = %v, want it to name spec.failover.maxDataLoss", err)
	}
	copied := bad.DeepCopy()
	if copied.Spec.DecodeError() == nil {
		t.Error("DeepCopy lost the decode error")
	}
}

// Controllers compare statuses with equality.Semantic before writing them; a Duration in a status
// (lastFailover.estimatedDataLoss, failoverReadiness.dataAtRisk) made that comparison panic.
func TestDurationSemanticEquality(t *testing.T) {
	status := func(d *Duration) *FailoverGroupStatus {
		return &FailoverGroupStatus{LastFailover: &FailoverRecord{EstimatedDataLoss: d}, FailoverReadiness: &FailoverReadiness{DataAtRisk: d}}
	}
	var invalid Duration
	if err := json.Unmarshal([]byte(`"five minutes"`), &invalid); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		a, b *Duration
		want bool
	}{
		{"same value", DurationPtr(time.Second), DurationPtr(time.Second), true},
		{"different values", DurationPtr(time.Second), DurationPtr(2 * time.Second), false},
		{"one nil", DurationPtr(time.Second), nil, false},
		{"an invalid text equals itself", &invalid, &invalid, true},
		{"an invalid text is not zero", &invalid, DurationPtr(0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := equality.Semantic.DeepEqual(status(tt.a), status(tt.b)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
