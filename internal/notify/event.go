package notify

import (
	"encoding/json"
	"time"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
)

// Event names sent by the operator (when each is sent: api/v1alpha1/vocabulary.go).
const (
	EventFailover         = v1alpha1.NotifyFailover
	EventSwitchover       = v1alpha1.NotifySwitchover
	EventFailback         = v1alpha1.NotifyFailback
	EventMemberDown       = v1alpha1.NotifyMemberDown
	EventMemberUp         = v1alpha1.NotifyMemberUp
	EventFailoverRequired = v1alpha1.NotifyFailoverRequired
	EventFailoverRefused  = v1alpha1.NotifyFailoverRefused
	EventLogChainBroken   = v1alpha1.NotifyLogChainBroken
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
