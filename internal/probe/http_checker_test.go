package probe

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHTTPCheckerStatusCodes(t *testing.T) {
	var redirectFollowed atomic.Int32
	var lastPath atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		lastPath.Store(r.URL.RequestURI())
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/redirect-target", http.StatusFound)
	})
	mux.HandleFunc("/redirect-target", func(w http.ResponseWriter, _ *http.Request) {
		redirectFollowed.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	mux.HandleFunc("/broken", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	address := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name    string
		path    string
		wantErr string // empty: healthy
	}{
		{name: "200 is healthy", path: "/healthz"},
		{name: "204 is healthy", path: "/nocontent"},
		{name: "302 is healthy and not followed", path: "/moved"},
		{name: "404 is unhealthy", path: "/missing", wantErr: "unhealthy status 404"},
		{name: "500 is unhealthy", path: "/broken", wantErr: "unhealthy status 500"},
	}
	checker := NewHTTPChecker()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checker.Check(context.Background(), Target{Kind: KindHTTP, Address: address, HTTPPath: tt.path})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Check() = %v, want healthy", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Check() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
	if n := redirectFollowed.Load(); n != 0 {
		t.Errorf("redirect target was requested %d times, want 0 (redirects must not be followed)", n)
	}

	t.Run("path defaults to /", func(t *testing.T) {
		lastPath.Store("")
		if err := checker.Check(context.Background(), Target{Kind: KindHTTP, Address: address}); err != nil {
			t.Fatalf("Check() = %v", err)
		}
		if got := lastPath.Load(); got != "/" {
			t.Errorf("requested %q, want /", got)
		}
	})
}

func TestHTTPCheckerErrorOmitsQuery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	address := strings.TrimPrefix(srv.URL, "http://")
	err := NewHTTPChecker().Check(context.Background(),
		Target{Kind: KindHTTP, Address: address, HTTPPath: "/health?token=s3cr3t"})
	if err == nil {
		t.Fatal("Check() succeeded against a 503")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error leaks the query string: %q", err)
	}
	if !strings.Contains(err.Error(), address+"/health") {
		t.Errorf("error %q does not say what was probed", err)
	}
}

func TestHTTPCheckerTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select { // hang until the client gives up or the test ends
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	address := strings.TrimPrefix(srv.URL, "http://")

	const timeout = 100 * time.Millisecond
	start := time.Now()
	err := NewHTTPChecker().Check(context.Background(), Target{Kind: KindHTTP, Address: address, Timeout: timeout})
	took := time.Since(start)
	if err == nil {
		t.Fatal("Check() against a hanging server succeeded")
	}
	if took > timeout+2*time.Second {
		t.Errorf("Check() took %v, want about its %v timeout", took, timeout)
	}
}

func TestHTTPCheckerTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	address := strings.TrimPrefix(srv.URL, "https://")
	checker := NewHTTPChecker()

	tests := []struct {
		name       string
		skipVerify bool
		wantErr    bool
	}{
		{name: "self-signed certificate fails verification by default", wantErr: true},
		{name: "explicit InsecureSkipVerify accepts it", skipVerify: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checker.Check(context.Background(), Target{
				Kind: KindHTTP, Address: address, HTTPScheme: "https", HTTPInsecureSkipVerify: tt.skipVerify,
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Check() error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestHTTPCheckerRejectsUnknownScheme(t *testing.T) {
	err := NewHTTPChecker().Check(context.Background(),
		Target{Kind: KindHTTP, Address: "127.0.0.1:1", HTTPScheme: "ftp"})
	if err == nil || !strings.Contains(err.Error(), "ftp") {
		t.Fatalf("Check() = %v, want an unsupported scheme error", err)
	}
}
