package notify

import (
	"encoding/json"
	"testing"
	"time"
)

func TestEventJSON(t *testing.T) {
	tests := []struct {
		name  string
		event Event
		want  string
	}{
		{
			name: "all fields",
			event: Event{Group: "orders-db", Namespace: "prod", Event: EventFailover, From: "db-0", To: "db-1",
				Reason: "db-0 failed 3 probes", Time: time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)},
			want: `{"group":"orders-db","namespace":"prod","event":"Failover","from":"db-0","to":"db-1",` +
				`"reason":"db-0 failed 3 probes","time":"2030-05-06T07:08:09Z"}`,
		},
		{
			name:  "empty fields are present, time is UTC to the second",
			event: Event{Event: EventMemberDown, Time: time.Date(2030, 5, 6, 9, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))},
			want:  `{"group":"","namespace":"","event":"MemberDown","from":"","to":"","reason":"","time":"2030-05-06T07:08:09Z"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.event)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("json.Marshal() =\n%s\nwant\n%s", got, tt.want)
			}
			var back Event
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("a receiver cannot decode the payload into Event: %v", err)
			}
			if want := tt.event.Time.Truncate(time.Second); !back.Time.Equal(want) || back.Event != tt.event.Event {
				t.Errorf("round trip = %+v, want event %s at %v", back, tt.event.Event, want)
			}
		})
	}
}
