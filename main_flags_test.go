package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseManagerFlagsLeaderElectionTiming(t *testing.T) {
	tests := []struct {
		name                string
		args                []string
		lease, renew, retry time.Duration
		wantErr             string
	}{
		{name: "defaults", lease: 15 * time.Second, renew: 10 * time.Second, retry: 2 * time.Second},
		{name: "faster takeover after a crash",
			args:  []string{"--leader-election-lease-duration=6s", "--leader-election-renew-deadline=4s", "--leader-election-retry-period=1s"},
			lease: 6 * time.Second, renew: 4 * time.Second, retry: time.Second},
		{name: "lease not longer than renew deadline",
			args: []string{"--leader-election-lease-duration=10s"}, wantErr: "lease duration (10s) > renew deadline (10s)"},
		{name: "renew deadline within the retry jitter",
			args: []string{"--leader-election-renew-deadline=2400ms"}, wantErr: "> 1.2 x retry period (2s)"},
		{name: "zero retry period", args: []string{"--leader-election-retry-period=0s"}, wantErr: "> 0"},
		{name: "not a duration", args: []string{"--leader-election-lease-duration=15"}, wantErr: "invalid value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := parseFlagsCase(t, tc.args, tc.wantErr)
			if !ok {
				return
			}
			if f.leaseDuration != tc.lease || f.renewDeadline != tc.renew || f.retryPeriod != tc.retry {
				t.Errorf("got lease %s renew %s retry %s, want %s %s %s", f.leaseDuration, f.renewDeadline, f.retryPeriod, tc.lease, tc.renew, tc.retry)
			}
		})
	}
}

func TestParseManagerFlagsKubeconfigAndLists(t *testing.T) {
	f, err := parseManagerFlags([]string{"--kubeconfig=/etc/kube/config", "--local-backup-root=/backups, /more",
		"--member-address-allow=10.0.0.0/8,.db.example.com"})
	if err != nil {
		t.Fatalf("--kubeconfig must be accepted as by every controller-runtime operator: %v", err)
	}
	if f.kubeconfig != "/etc/kube/config" {
		t.Errorf("kubeconfig = %q", f.kubeconfig)
	}
	if got := splitList(f.localBackupRoots); len(got) != 2 || got[0] != "/backups" || got[1] != "/more" {
		t.Errorf("local backup roots = %q", got)
	}
	if got := splitList(f.memberAddressAllow); len(got) != 2 {
		t.Errorf("member address allow list = %q", got)
	}
}

func TestRestConfigReadsKubeconfigFlag(t *testing.T) {
	path := t.TempDir() + "/config"
	kubeconfig := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://10.9.8.7:6443'}}]\n" +
		"contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\nusers: [{name: u, user: {token: t}}]\n"
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := restConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://10.9.8.7:6443" {
		t.Errorf("host = %q, want the kubeconfig's server", cfg.Host)
	}
}

func TestParseManagerFlagsMetrics(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		addr    string
		secure  bool
		wantErr string
	}{
		{name: "defaults: HTTPS on 8443", addr: ":8443", secure: true},
		{name: "plain HTTP on 8080", args: []string{"--metrics-secure=false"}, addr: ":8080"},
		{name: "an explicit address", args: []string{"--metrics-bind-address=127.0.0.1:9443"}, addr: "127.0.0.1:9443", secure: true},
		{name: "disabled", args: []string{"--metrics-bind-address=0"}, addr: "0"},
		{name: "a cert dir without HTTPS", args: []string{"--metrics-secure=false", "--metrics-cert-dir=/certs"}, wantErr: "--metrics-cert-dir needs --metrics-secure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := parseFlagsCase(t, tc.args, tc.wantErr)
			if !ok {
				return
			}
			opts, err := metricsOptions(f)
			if err != nil {
				t.Fatal(err)
			}
			if opts.BindAddress != tc.addr || opts.SecureServing != tc.secure || (opts.FilterProvider != nil) != tc.secure {
				t.Fatalf("options: address %q secure %v filter %v; want %q, secure and authn/authz filter %v",
					opts.BindAddress, opts.SecureServing, opts.FilterProvider != nil, tc.addr, tc.secure)
			}
			if tc.secure {
				cfg := &tls.Config{NextProtos: []string{"h2"}}
				for _, o := range opts.TLSOpts {
					o(cfg)
				}
				if fmt.Sprint(cfg.NextProtos) != "[http/1.1]" {
					t.Errorf("TLS next protocols %v: HTTP/2 must be off", cfg.NextProtos)
				}
				if opts.CertDir != "" {
					t.Errorf("cert dir %q without --metrics-cert-dir", opts.CertDir)
				}
			}
		})
	}
}

func TestMetricsCertDir(t *testing.T) {
	dir := t.TempDir()
	f, err := parseManagerFlags([]string{"--metrics-cert-dir=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	// A Secret that is not mounted (or lacks a key) is an error, not a silent self-signed certificate.
	if _, err := metricsOptions(f); err == nil || !strings.Contains(err.Error(), "tls.crt") {
		t.Fatalf("err = %v, want a missing tls.crt", err)
	}
	for _, name := range []string{"tls.crt", "tls.key"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opts, err := metricsOptions(f)
	if err != nil {
		t.Fatal(err)
	}
	if opts.CertDir != dir || opts.CertName != "tls.crt" || opts.KeyName != "tls.key" || !opts.SecureServing {
		t.Errorf("options %+v", opts)
	}
}

func TestParseManagerFlagsWebhookLocalTargets(t *testing.T) {
	for args, want := range map[string]bool{"": false, "--webhook-allow-local-targets": true, "--webhook-allow-local-targets=false": false} {
		var list []string
		if args != "" {
			list = []string{args}
		}
		f, err := parseManagerFlags(list)
		if err != nil {
			t.Fatal(err)
		}
		if f.webhookAllowLocal != want {
			t.Errorf("%q: allow local targets = %v, want %v", args, f.webhookAllowLocal, want)
		}
	}
}

// parseFlagsCase parses args and checks the error against wantErr; ok is false when the case ends
// there (an expected error).
func parseFlagsCase(t *testing.T, args []string, wantErr string) (*managerFlags, bool) {
	t.Helper()
	f, err := parseManagerFlags(args)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want it to contain %q", err, wantErr)
		}
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return f, true
}
