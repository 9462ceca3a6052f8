// Package memberapi is what test/e2e/memberserver answers over HTTP, shared by the server and the
// e2e suite that reads it, so the two cannot drift apart.
package memberapi

import (
	"encoding/json"
	"time"
)

// Delivery is one webhook request as the receiver got it (GET /deliveries).
type Delivery struct {
	ReceivedAt     time.Time       `json:"receivedAt"`
	EventHeader    string          `json:"eventHeader"`
	DeliveryID     string          `json:"deliveryID"`
	Signature      string          `json:"signature"`
	SignatureValid bool            `json:"signatureValid"`
	Body           json.RawMessage `json:"body"`
}

// Ack is one insert the server acknowledged: the row's id, when, and which instance (@@SERVERNAME
// of the connection) acknowledged it.
type Ack struct {
	ID     int       `json:"id"`
	At     time.Time `json:"at"`
	Server string    `json:"server"`
}

// WriterStats is the writer's GET /stats.
type WriterStats struct {
	Target    string `json:"target"`
	Acks      []Ack  `json:"acks"`
	Errors    int    `json:"errors"`
	LastError string `json:"lastError,omitempty"`
	Connects  int    `json:"connects"`
}

// RowCheck is the writer's GET /check: the acknowledged rows missing from the database the Service
// reaches now.
type RowCheck struct {
	Server  string `json:"server"`
	Acked   int    `json:"acked"`
	Present int    `json:"present"`
	Missing []Ack  `json:"missing"`
}
