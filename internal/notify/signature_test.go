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
	"testing"
	"time"
)

// Known answer, computed outside Go: HMAC-SHA256("whsec-example",
// `1767225600.0123456789abcdef0123456789abcdef.{"event":"Failover"}`).
const (
	kaSecret    = "whsec-example"
	kaTimestamp = 1767225600 // 2026-01-01T00:00:00Z
	kaDelivery  = "0123456789abcdef0123456789abcdef"
	kaBody      = `{"event":"Failover"}`
	kaSignature = "v1=1da9900708c81714fb8292b898d8f4f8ebaf41baf69c3db40585b07fe9ea733b"
)

func TestSignFormat(t *testing.T) {
	if got := Sign([]byte(kaSecret), kaTimestamp, kaDelivery, []byte(kaBody)); got != kaSignature {
		t.Fatalf("Sign() = %s, want %s", got, kaSignature)
	}
}

func signedHeader(sig, ts, delivery string) http.Header {
	h := http.Header{}
	for k, v := range map[string]string{SignatureHeader: sig, TimestampHeader: ts, DeliveryHeader: delivery} {
		if v != "" {
			h.Set(k, v)
		}
	}
	return h
}

func TestVerify(t *testing.T) {
	secret, body := []byte(kaSecret), []byte(kaBody)
	signedAt := time.Unix(kaTimestamp, 0)
	ts := strconv.Itoa(kaTimestamp)
	sigAt := func(at int64, delivery string) string { return Sign(secret, at, delivery, body) }
	tests := []struct {
		name   string
		secret []byte
		header http.Header
		body   string
		now    time.Time
		want   error // nil: verifies
	}{
		{name: "valid", header: signedHeader(kaSignature, ts, kaDelivery), now: signedAt},
		{name: "valid 4m59s later", header: signedHeader(kaSignature, ts, kaDelivery), now: signedAt.Add(4*time.Minute + 59*time.Second)},
		{name: "valid with clock 4m ahead of receiver", header: signedHeader(kaSignature, ts, kaDelivery), now: signedAt.Add(-4 * time.Minute)},
		{name: "key rotation: any v1 may match", header: signedHeader("v1=00ff, v2=abc ,"+kaSignature, ts, kaDelivery), now: signedAt},
		{name: "replayed 6 minutes later", header: signedHeader(kaSignature, ts, kaDelivery), now: signedAt.Add(6 * time.Minute), want: ErrTimestampTooOld},
		{name: "timestamp from the future", header: signedHeader(kaSignature, ts, kaDelivery), now: signedAt.Add(-6 * time.Minute), want: ErrTimestampTooOld},
		{name: "tampered timestamp (refreshed to pass the window)", header: signedHeader(kaSignature, strconv.Itoa(kaTimestamp+600), kaDelivery),
			now: signedAt.Add(10 * time.Minute), want: ErrSignatureMismatch},
		{name: "tampered delivery ID", header: signedHeader(kaSignature, ts, "ffffffffffffffffffffffffffffffff"), now: signedAt, want: ErrSignatureMismatch},
		{name: "tampered body", header: signedHeader(kaSignature, ts, kaDelivery), body: `{"event":"Switchover"}`, now: signedAt, want: ErrSignatureMismatch},
		{name: "wrong secret", secret: []byte("other"), header: signedHeader(kaSignature, ts, kaDelivery), now: signedAt, want: ErrSignatureMismatch},
		{name: "legacy body-only signature", header: signedHeader("sha256="+strings.TrimPrefix(kaSignature, "v1="), ts, kaDelivery), now: signedAt, want: ErrSignatureMismatch},
		{name: "only another version", header: signedHeader("v2="+strings.TrimPrefix(kaSignature, "v1="), ts, kaDelivery), now: signedAt, want: ErrSignatureMismatch},
		{name: "not hex", header: signedHeader("v1=zz", ts, kaDelivery), now: signedAt, want: ErrSignatureMismatch},
		{name: "truncated", header: signedHeader(kaSignature[:len(kaSignature)-2], ts, kaDelivery), now: signedAt, want: ErrSignatureMismatch},
		{name: "no signature", header: signedHeader("", ts, kaDelivery), now: signedAt, want: ErrMissingSignature},
		{name: "no timestamp", header: signedHeader(kaSignature, "", kaDelivery), now: signedAt, want: ErrMissingSignature},
		{name: "no delivery", header: signedHeader(kaSignature, ts, ""), now: signedAt, want: ErrMissingSignature},
		{name: "signed timestamp with a plus sign", header: signedHeader(sigAt(kaTimestamp, kaDelivery), "+"+ts, kaDelivery), now: signedAt, want: ErrBadTimestamp},
		{name: "timestamp with spaces", header: signedHeader(kaSignature, " "+ts, kaDelivery), now: signedAt, want: ErrBadTimestamp},
		{name: "timestamp in milliseconds", header: signedHeader(kaSignature, ts+"000", kaDelivery), now: signedAt, want: ErrBadTimestamp},
		{name: "delivery with a dot", header: signedHeader(sigAt(kaTimestamp, "a.b"), ts, "a.b"), now: signedAt, want: ErrBadDeliveryID},
		{name: "empty secret never verifies", secret: []byte{}, header: signedHeader(Sign(nil, kaTimestamp, kaDelivery, body), ts, kaDelivery), now: signedAt, want: ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := secret
			if tt.secret != nil {
				key = tt.secret
			}
			b := body
			if tt.body != "" {
				b = []byte(tt.body)
			}
			err := Verify(key, tt.header, b, tt.now, 0)
			if tt.want == nil && err != nil {
				t.Fatalf("Verify() = %v, want nil", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify() = %v, want %v", err, tt.want)
			}
		})
	}
	// A custom tolerance.
	if err := Verify(secret, signedHeader(kaSignature, ts, kaDelivery), body, signedAt.Add(time.Minute), 30*time.Second); !errors.Is(err, ErrTimestampTooOld) {
		t.Fatalf("30s tolerance, 1m later: %v", err)
	}
}

// receiverVerify is the recipe of docs/failover.md, written without this
// package, as a receiver would copy it.
func receiverVerify(secret []byte, r *http.Request, body []byte, now time.Time) error {
	ts, id, sigs := r.Header.Get("X-Understudy-Timestamp"), r.Header.Get("X-Understudy-Delivery"), r.Header.Get("X-Understudy-Signature")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || id == "" || strings.Contains(id, ".") {
		return errors.New("missing or malformed headers")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp outside the 5-minute tolerance")
	}
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s.%s.", ts, id)
	mac.Write(body)
	want := mac.Sum(nil)
	for s := range strings.SplitSeq(sigs, ",") {
		if got, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "v1=")); err == nil && strings.HasPrefix(strings.TrimSpace(s), "v1=") && hmac.Equal(got, want) {
			return nil // also remember id for 5 minutes and refuse it when seen again
		}
	}
	return errors.New("bad signature")
}

func TestDocumentedReceiverRecipe(t *testing.T) {
	r, _ := http.NewRequest(http.MethodPost, "http://receiver/hook", nil)
	r.Header = signedHeader(kaSignature, strconv.Itoa(kaTimestamp), kaDelivery)
	if err := receiverVerify([]byte(kaSecret), r, []byte(kaBody), time.Unix(kaTimestamp+10, 0)); err != nil {
		t.Fatalf("recipe refuses a valid delivery: %v", err)
	}
	r.Header.Set(TimestampHeader, strconv.Itoa(kaTimestamp+1))
	if err := receiverVerify([]byte(kaSecret), r, []byte(kaBody), time.Unix(kaTimestamp+10, 0)); err == nil {
		t.Fatal("recipe accepts a tampered timestamp")
	}
}
