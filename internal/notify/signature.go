package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Headers set on every delivery.
const (
	// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the body>" when the
	// webhook has a secret.
	SignatureHeader = "X-Understudy-Signature"
	// EventHeader carries the event name.
	EventHeader = "X-Understudy-Event"
	// DeliveryHeader carries an ID that is the same for every attempt of one
	// delivery, for de-duplication by receivers.
	DeliveryHeader = "X-Understudy-Delivery"
)

const signaturePrefix = "sha256="

// Sign returns the SignatureHeader value for body: "sha256=" followed by the
// hex HMAC-SHA256 of body keyed with secret.
func Sign(body, secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body) // hash.Hash.Write never fails
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether header is a valid SignatureHeader value for body
// and secret, comparing in constant time. It is false for an empty secret,
// so a receiver without a configured secret never accepts a signature.
func Verify(body, secret []byte, header string) bool {
	if len(secret) == 0 {
		return false
	}
	hexSum, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
