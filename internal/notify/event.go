package notify

import (
	"encoding/json"
	"time"
)

// Event names sent by the operator.
const (
	EventFailover         = "Failover"
	EventSwitchover       = "Switchover"
	EventMemberDown       = "MemberDown"
	EventMemberUp         = "MemberUp"
	EventFailoverRequired = "FailoverRequired"
	EventFailoverRefused  = "FailoverRefused"
)

// Event is the payload of one notification. It is sent as JSON with the keys
// group, namespace, event, from, to, reason and time (RFC 3339, UTC); all keys
// are always present.
type Event struct {
	Group     string    `json:"group"`
	Namespace string    `json:"namespace"`
	Event     string    `json:"event"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Reason    string    `json:"reason"`
	Time      time.Time `json:"time"`
}

// MarshalJSON encodes e with its time in RFC 3339 (second precision, UTC).
func (e Event) MarshalJSON() ([]byte, error) {
	type wireEvent struct {
		Group     string `json:"group"`
		Namespace string `json:"namespace"`
		Event     string `json:"event"`
		From      string `json:"from"`
		To        string `json:"to"`
		Reason    string `json:"reason"`
		Time      string `json:"time"`
	}
	return json.Marshal(wireEvent{
		Group:     e.Group,
		Namespace: e.Namespace,
		Event:     e.Event,
		From:      e.From,
		To:        e.To,
		Reason:    e.Reason,
		Time:      e.Time.UTC().Format(time.RFC3339),
	})
}
