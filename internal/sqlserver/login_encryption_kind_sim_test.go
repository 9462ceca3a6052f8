package sqlserver

import (
	"errors"
	"testing"

	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// A simulator with TLS disabled answers PRELOGIN with ENCRYPT_NOT_SUP (no
// SQL Server does; a proxy or an old server might): with tls mode
// Optional or Mandatory the guard refuses to send the login, and the error
// the client returns classifies as KindLoginNotEncrypted (not
// KindUnreachable: retrying cannot help, and the condition must say why).
func TestCleartextLoginRefusalIsClassified(t *testing.T) {
	inst := startInstanceTLS(t, "PLAIN", mssqlsim.TLSOptions{Disabled: true})
	for _, mode := range []EncryptMode{"", EncryptOptional, EncryptMandatory} {
		t.Run(string(mode), func(t *testing.T) {
			cfg := simConfig(inst.srv, "sa", simPassword)
			cfg.Encrypt = mode
			c, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Ping(testContext(t))
			if !errors.Is(err, ErrLoginNotEncrypted) {
				t.Fatalf("ping: %v, want ErrLoginNotEncrypted", err)
			}
			if k := Classify(err); k != KindLoginNotEncrypted || k.Retryable() {
				t.Fatalf("Classify = %s (retryable %t), want LoginNotEncrypted, not retryable", k, k.Retryable())
			}
		})
	}
	// Disable sends the login in clear, as the user chose.
	if err := inst.client.Ping(testContext(t)); err != nil {
		t.Fatalf("Disable: %v", err)
	}
}
