package notify

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
)

func TestWebhookWants(t *testing.T) {
	tests := []struct {
		name   string
		events []string
		event  string
		want   bool
	}{
		{name: "no filter wants everything", event: EventMemberUp, want: true},
		{name: "listed event", events: []string{EventFailover, EventSwitchover}, event: EventSwitchover, want: true},
		{name: "match ignores case", events: []string{"failover"}, event: EventFailover, want: true},
		{name: "unlisted event", events: []string{EventFailover}, event: EventMemberDown},
		{name: "no prefix matching", events: []string{EventFailover}, event: EventFailoverRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Webhook{URL: "https://h/x", Events: tt.events}).Wants(tt.event); got != tt.want {
				t.Errorf("Wants(%s) = %v, want %v", tt.event, got, tt.want)
			}
		})
	}
}

func TestWebhookValidate(t *testing.T) {
	tests := []struct {
		url     string
		wantErr bool
	}{
		{url: "https://hooks.example.com/services/T0/B0?token=abc"},
		{url: "http://10.0.0.7:8080/notify"},
		{url: "ftp://hooks.example.com/x?token=abc", wantErr: true},
		{url: "/relative/path?token=abc", wantErr: true},
		{url: "https://bad host/?token=abc", wantErr: true},
		{url: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := Webhook{URL: tt.url}.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "token") {
				t.Errorf("error leaks the query: %q", err)
			}
		})
	}
}

func TestWebhookPrintsWithoutSecrets(t *testing.T) {
	hook := Webhook{URL: "https://user:pw@hooks.example.com:8443/a/b?token=tok123#frag", Secret: []byte("hmac-key")}
	const want = "https://hooks.example.com:8443"
	var logged strings.Builder
	log := funcr.New(func(prefix, args string) { logged.WriteString(args) }, funcr.Options{})
	log.Info("hook", "webhook", hook)

	outputs := map[string]string{
		"String":   hook.String(),
		"%v":       fmt.Sprintf("%v", hook),
		"%+v":      fmt.Sprintf("%+v", hook),
		"%#v":      fmt.Sprintf("%#v", hook),
		"logr":     logged.String(),
		"Validate": fmt.Sprint(Webhook{URL: "gopher://user:pw@h/?token=tok123"}.Validate()),
	}
	for how, out := range outputs {
		for _, secret := range []string{"tok123", "hmac-key", "pw", "frag", "/a/b"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s output %q leaks %q", how, out, secret)
			}
		}
	}
	if hook.String() != want || !strings.Contains(logged.String(), want) {
		t.Errorf("String() = %q, logged %q; want %q", hook.String(), logged.String(), want)
	}
}
