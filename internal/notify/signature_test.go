package notify

import (
	"strings"
	"testing"
)

func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"event":"Failover"}`)
	secret := []byte("s3cret")
	valid := Sign(body, secret)
	if !strings.HasPrefix(valid, "sha256=") || len(valid) != len("sha256=")+64 {
		t.Fatalf("Sign() = %q, want sha256=<64 hex digits>", valid)
	}
	// Known answer: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
	if got := Sign([]byte("The quick brown fox jumps over the lazy dog"), []byte("key")); got !=
		"sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Fatalf("Sign() known answer = %s", got)
	}

	tests := []struct {
		name   string
		body   []byte
		secret []byte
		header string
		want   bool
	}{
		{name: "valid signature", body: body, secret: secret, header: valid, want: true},
		{name: "wrong secret", body: body, secret: []byte("other"), header: valid},
		{name: "tampered body", body: []byte(`{"event":"Switchover"}`), secret: secret, header: valid},
		{name: "missing prefix", body: body, secret: secret, header: strings.TrimPrefix(valid, "sha256=")},
		{name: "other algorithm prefix", body: body, secret: secret, header: "sha1=" + strings.TrimPrefix(valid, "sha256=")},
		{name: "not hex", body: body, secret: secret, header: "sha256=zz"},
		{name: "truncated", body: body, secret: secret, header: valid[:len(valid)-2]},
		{name: "empty header", body: body, secret: secret},
		{name: "empty secret never verifies", body: body, header: Sign(body, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verify(tt.body, tt.secret, tt.header); got != tt.want {
				t.Errorf("Verify() = %v, want %v", got, tt.want)
			}
		})
	}
}
