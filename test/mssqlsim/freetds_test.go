package mssqlsim

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFreeTDSClient checks the simulator's TLS with a client that is not
// go-mssqldb: FreeTDS's tsql (Debian package freetds-bin; skipped when it is
// not installed). FreeTDS "encryption = off" sends ENCRYPT_NOT_SUP,
// "request" ENCRYPT_OFF (login-only encryption when the server does not
// force more), "require" ENCRYPT_ON.
func TestFreeTDSClient(t *testing.T) {
	tsql, err := exec.LookPath("tsql")
	if err != nil {
		t.Skip("tsql (FreeTDS) not installed: apt-get install freetds-bin")
	}
	dir := t.TempDir()
	pki, err := WriteTestPKI(dir, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	caFile := pki.CAFile
	files := TLSOptions{CertFile: pki.CertFile, KeyFile: pki.KeyFile}
	forced := files
	forced.ForceEncryption = true
	tests := []struct {
		name       string
		server     TLSOptions
		encryption string
		caFile     string
		ok         bool
		clearLogin bool
	}{
		{"self-signed, login only", TLSOptions{}, "request", "", true, false},
		{"self-signed, off: plaintext as asked", TLSOptions{}, "off", "", true, true},
		{"self-signed, required", TLSOptions{}, "require", "", true, false},
		{"files, verified", files, "require", caFile, true, false},
		{"self-signed, verified", TLSOptions{}, "require", caFile, false, false},
		{"forced, client asks login only", forced, "request", caFile, true, false},
		{"forced, client cannot encrypt: disconnected", forced, "off", "", false, false},
		{"no TLS, required", TLSOptions{Disabled: true}, "require", "", false, false},
		{"no TLS, off: FreeTDS sends the login in clear", TLSOptions{Disabled: true}, "off", "", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSimTLS(t, tc.server)
			tap, err := StartTap(srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tap.Close() })
			conf := fmt.Sprintf("[global]\n\ttds version = 7.4\n[sim]\n\thost = localhost\n\tport = %d\n\tencryption = %s\n", tap.Port(), tc.encryption)
			if tc.caFile != "" {
				conf += "\tca file = " + tc.caFile + "\n"
			}
			confFile := filepath.Join(t.TempDir(), "freetds.conf")
			if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, tsql, "-S", "sim", "-U", "sa", "-P", testPassword)
			cmd.Env = append(os.Environ(), "FREETDSCONF="+confFile)
			cmd.Stdin = strings.NewReader("SELECT @@SERVERNAME\ngo\nexit\n")
			out, _ := cmd.CombinedOutput()
			if ok := bytes.Contains(out, []byte("SIMTLS")); ok != tc.ok {
				t.Fatalf("tsql connected and queried: %t, want %t; output:\n%s", ok, tc.ok, out)
			}
			_ = tap.Close()
			if clear := bytes.Contains(tap.FromClient(), obfuscatePassword(stringToUCS2(testPassword))); clear != tc.clearLogin {
				t.Fatalf("obfuscated password on the wire: %t, want %t", clear, tc.clearLogin)
			}
		})
	}
}
