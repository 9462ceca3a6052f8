package probe

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRegistryDispatchesOnKind(t *testing.T) {
	var gotKind Kind
	record := CheckerFunc(func(_ context.Context, t Target) error {
		gotKind = t.Kind
		return nil
	})
	refuse := CheckerFunc(func(context.Context, Target) error { return errors.New("login failed") })
	reg := Registry{KindTCP: record, KindSQLServer: refuse}

	tests := []struct {
		name     string
		kind     Kind
		wantErr  string
		wantSeen Kind
	}{
		{name: "registered kind runs its checker", kind: KindTCP, wantSeen: KindTCP},
		{name: "plugged-in kind's error is returned", kind: KindSQLServer, wantErr: "login failed"},
		{name: "unregistered kind is an error", kind: KindHTTP, wantErr: `no checker registered for kind "HTTP"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotKind = ""
			err := reg.Check(context.Background(), Target{Kind: tt.kind, Address: "db:1433"})
			if tt.wantErr == "" {
				if err != nil || gotKind != tt.wantSeen {
					t.Fatalf("Check() = %v, checker saw kind %q; want nil, %q", err, gotKind, tt.wantSeen)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Check() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewRegistryHasBuiltInKinds(t *testing.T) {
	reg := NewRegistry()
	for _, kind := range []Kind{KindTCP, KindHTTP} {
		if !reg.Supports(kind) {
			t.Errorf("NewRegistry() lacks %s", kind)
		}
	}
	if reg.Supports(KindSQLServer) {
		t.Errorf("NewRegistry() has a SQLServer checker; it is meant to be plugged in")
	}
}

func TestTargetWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Target
		want Target
	}{
		{
			name: "http target gets path, scheme and timeout",
			in:   Target{Kind: KindHTTP, Address: "a:80"},
			want: Target{Kind: KindHTTP, Address: "a:80", HTTPPath: "/", HTTPScheme: "http", Timeout: DefaultTimeout},
		},
		{
			name: "scheme is lower-cased, explicit values kept",
			in:   Target{Kind: KindHTTP, Address: "a:443", HTTPPath: "/ready", HTTPScheme: "HTTPS", Timeout: 3 * time.Second},
			want: Target{Kind: KindHTTP, Address: "a:443", HTTPPath: "/ready", HTTPScheme: "https", Timeout: 3 * time.Second},
		},
		{
			name: "tcp target gets only a timeout",
			in:   Target{Kind: KindTCP, Address: "a:1433"},
			want: Target{Kind: KindTCP, Address: "a:1433", Timeout: DefaultTimeout},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.WithDefaults(); got != tt.want {
				t.Errorf("WithDefaults() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTargetValidate(t *testing.T) {
	tests := []struct {
		name    string
		target  Target
		wantErr bool
	}{
		{name: "tcp host:port", target: Target{Kind: KindTCP, Address: "db-0.db:1433"}},
		{name: "ipv6 address", target: Target{Kind: KindTCP, Address: "[::1]:1433"}},
		{name: "http with https scheme", target: Target{Kind: KindHTTP, Address: "a:443", HTTPScheme: "https"}},
		{name: "missing kind", target: Target{Address: "a:1"}, wantErr: true},
		{name: "missing port", target: Target{Kind: KindTCP, Address: "a"}, wantErr: true},
		{name: "empty port", target: Target{Kind: KindTCP, Address: "a:"}, wantErr: true},
		{name: "empty host", target: Target{Kind: KindTCP, Address: ":1433"}, wantErr: true},
		{name: "bad scheme", target: Target{Kind: KindHTTP, Address: "a:1", HTTPScheme: "gopher"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.target.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}
