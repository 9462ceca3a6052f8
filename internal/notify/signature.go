package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers set on every delivery.
const (
	// SignatureHeader carries, when the webhook has a secret,
	// "v1=<hex HMAC-SHA256 of '<timestamp>.<delivery>.<body>'>" (see Sign).
	// Receivers must accept a comma-separated list and any v1 entry that
	// matches, and ignore entries of other versions.
	SignatureHeader = "X-Understudy-Signature"
	// TimestampHeader carries the time the attempt was signed, in Unix
	// seconds (decimal). It is part of the signed text, so a receiver that
	// refuses old timestamps refuses replays.
	TimestampHeader = "X-Understudy-Timestamp"
	// EventHeader carries the event name.
	EventHeader = "X-Understudy-Event"
	// DeliveryHeader carries an ID (32 lower-case hex digits) that is the
	// same for every attempt of one delivery, for de-duplication by
	// receivers. It is part of the signed text.
	DeliveryHeader = "X-Understudy-Delivery"
)

// DefaultSignatureTolerance is how far a receiver should let the timestamp
// be from its own clock; Verify uses it when given a tolerance <= 0.
const DefaultSignatureTolerance = 5 * time.Minute

const signatureVersion = "v1="

// Verification failures; Verify's error matches one of them (errors.Is).
var (
	ErrNoSecret          = errors.New("no webhook secret configured")
	ErrMissingSignature  = errors.New("missing " + SignatureHeader + ", " + TimestampHeader + " or " + DeliveryHeader)
	ErrBadTimestamp      = errors.New("malformed " + TimestampHeader)
	ErrBadDeliveryID     = errors.New("malformed " + DeliveryHeader)
	ErrTimestampTooOld   = errors.New("signature timestamp outside the tolerance")
	ErrSignatureMismatch = errors.New("no signature matches")
)

// Sign returns the SignatureHeader value for one attempt:
// "v1=" followed by the hex HMAC-SHA256, keyed with secret, of
// "<timestamp>.<deliveryID>.<body>", timestamp in decimal Unix seconds.
func Sign(secret []byte, timestamp int64, deliveryID string, body []byte) string {
	return signatureVersion + hex.EncodeToString(mac(secret, timestamp, deliveryID, body))
}

func mac(secret []byte, timestamp int64, deliveryID string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	// hash.Hash.Write never fails.
	m.Write(strconv.AppendInt(nil, timestamp, 10))
	m.Write([]byte{'.'})
	m.Write([]byte(deliveryID))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a received delivery: the headers h (SignatureHeader,
// TimestampHeader, DeliveryHeader) against the exact body bytes, secret and
// the receiver's clock now. The timestamp must be within tolerance of now
// (DefaultSignatureTolerance when tolerance <= 0), in either direction. It
// compares in constant time and never accepts anything without a secret.
// To also refuse replays inside the tolerance, remember the DeliveryHeader
// values accepted in the last tolerance period and refuse repeats.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	if tolerance <= 0 {
		tolerance = DefaultSignatureTolerance
	}
	sigs, ts, id := h.Get(SignatureHeader), h.Get(TimestampHeader), h.Get(DeliveryHeader)
	if sigs == "" || ts == "" || id == "" {
		return ErrMissingSignature
	}
	timestamp, err := parseTimestamp(ts)
	if err != nil {
		return err
	}
	if !validDeliveryID(id) {
		return ErrBadDeliveryID
	}
	if skew := now.Sub(time.Unix(timestamp, 0)); skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w: %s is %v from now (tolerance %v)", ErrTimestampTooOld, ts, skew.Round(time.Second), tolerance)
	}
	want := mac(secret, timestamp, id, body)
	for sig := range strings.SplitSeq(sigs, ",") {
		hexSum, ok := strings.CutPrefix(strings.TrimSpace(sig), signatureVersion)
		if !ok {
			continue // another version
		}
		if got, err := hex.DecodeString(hexSum); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignatureMismatch
}

// parseTimestamp accepts 1 to 12 decimal digits, nothing else (no sign, no
// spaces), so the signed text has a single spelling.
func parseTimestamp(s string) (int64, error) {
	if len(s) == 0 || len(s) > 12 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, ErrBadTimestamp
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrBadTimestamp
	}
	return n, nil
}

// validDeliveryID accepts 1 to 64 characters of [0-9A-Za-z-]: no '.', so
// "<timestamp>.<delivery>.<body>" cannot be split two ways.
func validDeliveryID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}
