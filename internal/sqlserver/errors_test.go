package sqlserver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	mssql "github.com/microsoft/go-mssqldb"
)

// serverError builds the error go-mssqldb returns for a statement that
// failed with the given numbers, first to last.
func serverError(numbers ...int32) mssql.Error {
	var all []mssql.Error
	for _, n := range numbers {
		all = append(all, mssql.Error{Number: n, Class: 16, Message: fmt.Sprintf("error %d", n)})
	}
	last := all[len(all)-1]
	last.All = all
	return last
}

func TestClassify(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, KindUnknown},
		{"plain error", errors.New("boom"), KindUnknown},
		{"gap behind 3013", serverError(4305, 3013), KindLogTooRecent},
		{"already applied behind 3013", serverError(4326, 3013), KindLogTooEarly},
		{"not restoring", serverError(3117, 3013), KindNotRestoring},
		{"already recovered", serverError(3153, 3013), KindAlreadyRecovered},
		{"exclusive access", serverError(3101, 3013), KindDatabaseInUse},
		{"in use by this session", serverError(3102, 3013), KindDatabaseInUse},
		{"alter lock", serverError(5061), KindDatabaseInUse},
		{"no current backup", serverError(4214, 3013), KindNoFullBackup},
		{"simple recovery", serverError(4208, 3013), KindSimpleRecovery},
		{"cannot open device", serverError(3201, 3013), KindBackupDevice},
		{"move directory", serverError(5133, 3013), KindBackupDevice},
		{"create directory", serverError(22048), KindBackupDevice},
		{"corrupt media", serverError(3241, 3013), KindBackupMedia},
		{"checksum", serverError(3183, 3013), KindBackupMedia},
		{"wrong backup type", serverError(3135, 3013), KindBackupMedia},
		{"other database", serverError(3154, 3013), KindBackupOfOtherDatabase},
		{"other recovery path", serverError(4330, 3013), KindRecoveryPathMismatch},
		{"checksum missing", serverError(3187, 3013), KindChecksumMissing},
		{"tail not backed up", serverError(3159, 3013), KindTailNotBackedUp},
		{"standby file missing", serverError(3441, 3013), KindStandbyFileMissing},
		{"restoring", serverError(927), KindDatabaseUnavailable},
		{"unavailable", serverError(904), KindDatabaseUnavailable},
		{"offline", serverError(942), KindDatabaseUnavailable},
		{"single user", serverError(924), KindDatabaseUnavailable},
		{"not found", serverError(911), KindDatabaseNotFound},
		{"read only", serverError(3906), KindReadOnly},
		{"login failed", serverError(18456), KindLoginFailed},
		{"login to a restoring database", serverError(927, 4060, 18456), KindDatabaseUnavailable},
		{"login to a missing database", serverError(4060, 18456), KindDatabaseUnavailable},
		{"unknown cause behind 3013", serverError(50000, 3013), KindTerminated},
		{"3013 alone", serverError(3013), KindTerminated},
		{"unknown number", serverError(50000), KindUnknown},
		{"cause first wins among equals", serverError(4305, 3201, 3013), KindLogTooRecent},
		{"wrapped server error", fmt.Errorf("restore log x: %w", serverError(4305, 3013)), KindLogTooRecent},
		{"doubly wrapped", fmt.Errorf("a: %w", fmt.Errorf("b: %w", serverError(3101, 3013))), KindDatabaseInUse},
		{"joined", errors.Join(errors.New("x"), serverError(4208, 3013)), KindSimpleRecovery},
		{"pointer error", &mssql.Error{Number: 4326}, KindLogTooEarly},
		{"server error wrapper", fmt.Errorf("x: %w", redactSecret(serverError(18456), "nothing")), KindLoginFailed},
		{"connection refused", fmt.Errorf("unable to open tcp connection: %w", dialErr), KindUnreachable},
		{"deadline", fmt.Errorf("ping: %w", context.DeadlineExceeded), KindUnreachable},
		{"bad connection", driver.ErrBadConn, KindUnreachable},
		{"eof", fmt.Errorf("read: %w", io.EOF), KindUnreachable},
		{"unexpected eof", io.ErrUnexpectedEOF, KindUnreachable},
		{"reset", fmt.Errorf("x: %w", syscall.ECONNRESET), KindUnreachable},
		{"net closed", net.ErrClosed, KindUnreachable},
		{"dns", &net.DNSError{Err: "no such host", Name: "db", IsNotFound: true}, KindUnreachable},
		{"stream error", mssql.StreamError{InnerError: errors.New("bad token")}, KindUnreachable},
		{"canceled", fmt.Errorf("ping: %w", context.Canceled), KindCanceled},
		{"database state", fmt.Errorf("health: %w", &DatabaseStateError{Database: "x", Role: RolePrimary, Got: "RESTORING"}), KindUnexpectedState},
		{"login not encrypted", &LoginEncryptionError{Mode: EncryptOptional, Answer: PreloginEncryptNotSup}, KindLoginNotEncrypted},
		{"login not encrypted sentinel", fmt.Errorf("ping: %w", ErrLoginNotEncrypted), KindLoginNotEncrypted},
		{"certificate not trusted", fmt.Errorf("TLS Handshake failed: %w", &CertificateError{Name: "sql-0", Err: errors.New("x509: unknown authority")}), KindCertificateNotTrusted},
		// go-mssqldb formats the TDS 7.x handshake error with %v.
		{"certificate not trusted, flattened", fmt.Errorf("TLS Handshake failed: %v", &CertificateError{Name: "sql-0", Err: errors.New("x509: unknown authority")}), KindCertificateNotTrusted},
		// The guard fails the driver's read of the connection: wrapped
		// like a network error, it is still not "unreachable".
		{"login not encrypted in a read error", fmt.Errorf("unable to open tcp connection: %w",
			&net.OpError{Op: "read", Net: "tcp", Err: &LoginEncryptionError{Mode: EncryptMandatory, Answer: PreloginEncryptNotSup}}), KindLoginNotEncrypted},
		{"login not encrypted joined with EOF", errors.Join(io.EOF, &LoginEncryptionError{Answer: 0x80}), KindLoginNotEncrypted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.err); got != tc.want {
				t.Fatalf("Classify(%v) = %s, want %s", tc.err, got, tc.want)
			}
			if !IsKind(tc.err, tc.want) {
				t.Fatalf("IsKind(%v, %s) = false", tc.err, tc.want)
			}
		})
	}
}

func TestHasErrorNumberLooksAtEveryError(t *testing.T) {
	err := fmt.Errorf("restore: %w", serverError(4305, 3013))
	tests := []struct {
		n    int32
		want bool
	}{
		{4305, true},
		{3013, true},
		{4326, false},
	}
	for _, tc := range tests {
		if got := HasErrorNumber(err, tc.n); got != tc.want {
			t.Errorf("HasErrorNumber(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
	if got := ErrorNumbers(err); len(got) != 2 || got[0] != 4305 || got[1] != 3013 {
		t.Fatalf("ErrorNumbers = %v", got)
	}
	// An error without All still counts its own Number.
	single := mssql.Error{Number: 927}
	if !HasErrorNumber(single, 927) || len(ErrorNumbers(single)) != 1 {
		t.Fatalf("single error: %v", ErrorNumbers(single))
	}
	if HasErrorNumber(nil, 0) || HasErrorNumber(errors.New("x"), 0) || ErrorNumbers(errors.New("x")) != nil {
		t.Fatal("errors without server errors carry no numbers")
	}
}

func TestKindNamesAndRetryable(t *testing.T) {
	seen := map[string]bool{}
	for k := KindUnknown; k <= lastKind; k++ {
		name := k.String()
		if name == "" || strings.HasPrefix(name, "Kind(") || seen[name] {
			t.Fatalf("kind %d has name %q", int(k), name)
		}
		seen[name] = true
	}
	if got := (lastKind + 1).String(); !strings.HasPrefix(got, "Kind(") {
		t.Fatalf("kind after the last has name %q", got)
	}
	if got := Kind(999).String(); got != "Kind(999)" {
		t.Fatalf("unknown kind name %q", got)
	}
	retryable := map[Kind]bool{KindUnreachable: true, KindDatabaseInUse: true, KindDatabaseUnavailable: true}
	for k := KindUnknown; k <= lastKind; k++ {
		if k.Retryable() != retryable[k] {
			t.Errorf("%s.Retryable() = %v", k, k.Retryable())
		}
	}
}

func TestRedactSecret(t *testing.T) {
	const secret = "Top-Secret-9"
	inner := serverError(18456)
	inner.All[0].Message = "Login failed for user '" + secret + "'."
	inner.Message = inner.All[0].Message
	tests := []struct {
		name     string
		err      error
		secret   string
		wantSame bool
	}{
		{"nil", nil, secret, true},
		{"no secret configured", inner, "", true},
		{"secret absent", errors.New("connection refused"), secret, true},
		{"secret present", inner, secret, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := redactSecret(tc.err, tc.secret)
			if tc.wantSame {
				_, redacted := got.(*redactedError)
				if redacted || (got == nil) != (tc.err == nil) || (got != nil && got.Error() != tc.err.Error()) {
					t.Fatalf("redactSecret changed %v into %v", tc.err, got)
				}
				return
			}
			if strings.Contains(got.Error(), secret) || !strings.Contains(got.Error(), redactedPlaceholder) {
				t.Fatalf("redacted text %q", got.Error())
			}
			wrapped := fmt.Errorf("ping: %w", got)
			if strings.Contains(wrapped.Error(), secret) {
				t.Fatalf("wrapped text %q", wrapped.Error())
			}
			if Classify(wrapped) != KindLoginFailed || !HasErrorNumber(wrapped, 18456) {
				t.Fatalf("redaction hid the server error: %v", ErrorNumbers(wrapped))
			}
		})
	}
}
