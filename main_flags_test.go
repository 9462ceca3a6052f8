package main

import (
	"os"
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
			f, err := parseManagerFlags(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
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
