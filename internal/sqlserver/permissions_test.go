package sqlserver

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	mssql "github.com/microsoft/go-mssqldb"
)

// refusal is what the driver returns for a statement SQL Server
// refused with numbers (the last is Number, as the driver does).
func refusal(numbers ...int32) error {
	e := mssql.Error{}
	for _, n := range numbers {
		e.All = append(e.All, mssql.Error{Number: n, Message: fmt.Sprintf("error %d", n)})
	}
	e.Number = numbers[len(numbers)-1]
	return fmt.Errorf("exec: %w", e)
}

func TestPermissionDenied(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		extra   []int32
		wrapped bool
	}{
		{"nil", nil, nil, false},
		{"BACKUP refused: 262 then 3013", refusal(262, 3013), nil, true},
		{"RESTORE refused: 3110 then 3013", refusal(3110, 3013), nil, true},
		{"DMV refused: 300 then 297", refusal(300, 297), nil, true},
		{"KILL refused", refusal(6102), nil, true},
		{"EXECUTE refused", refusal(229), nil, true},
		{"CREATE LOGIN refused", refusal(15247), nil, true},
		{"no access to the database", refusal(916), nil, true},
		{"5011 is ambiguous unless the statement says so", refusal(5011), nil, false},
		{"5011 for ALTER DATABASE of an existing database", refusal(5011), []int32{5011}, true},
		{"device error", refusal(3201, 3013), nil, false},
		{"not a server error", errors.New("connection reset"), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := permissionDenied(tc.err, "STMT", "GRANT X", tc.extra...)
			var pe *PermissionError
			if wrapped := errors.As(got, &pe); wrapped != tc.wrapped {
				t.Fatalf("permissionDenied(%v) = %v; PermissionError %t, want %t", tc.err, got, wrapped, tc.wrapped)
			}
			if !tc.wrapped {
				if got != tc.err {
					t.Fatalf("permissionDenied changed an error it does not wrap: %v", got)
				}
				return
			}
			if pe.Statement != "STMT" || pe.Permission != "GRANT X" || !errors.Is(got, tc.err) {
				t.Fatalf("PermissionError %+v does not carry the statement, the grant and the server error", pe)
			}
			if !IsPermissionDenied(got) || Classify(got) != Classify(tc.err) {
				t.Fatalf("wrapping changed what the error is: IsPermissionDenied %t, kind %s, was %s", IsPermissionDenied(got), Classify(got), Classify(tc.err))
			}
			if msg := got.Error(); !strings.Contains(msg, "STMT refused") || !strings.Contains(msg, "needs GRANT X") || !strings.Contains(msg, "docs/sqlserver-login.md") {
				t.Fatalf("message %q does not say what to grant", msg)
			}
		})
	}
}

func TestLoginPermissionDenied(t *testing.T) {
	hash := "0x0200" + strings.Repeat("AB", 68)
	for _, tc := range []struct {
		stmt string
		err  error
		want string // PermissionError.Permission, "" when not wrapped
	}{
		{"CREATE LOGIN [a] WITH PASSWORD = " + hash + " HASHED", refusal(15247), needAlterAnyLogin},
		{"ALTER LOGIN [a] WITH PASSWORD = " + hash + " HASHED", refusal(15151), needAlterAnyLogin},
		{"ALTER LOGIN [a] ENABLE", refusal(15247), needControlServer},
		{"ALTER LOGIN [a] WITH CHECK_POLICY = OFF", refusal(15151), needAlterAnyLogin},
		{"CREATE LOGIN [a] WITH PASSWORD = " + hash + " HASHED", refusal(15025), ""},
	} {
		got := loginPermissionDenied(tc.err, tc.stmt)
		var pe *PermissionError
		switch {
		case tc.want == "" && errors.As(got, &pe):
			t.Errorf("%s, %v: wrapped as a PermissionError", tc.stmt, tc.err)
		case tc.want != "" && (!errors.As(got, &pe) || pe.Permission != tc.want):
			t.Errorf("%s, %v: %v, want a PermissionError needing %q", tc.stmt, tc.err, got, tc.want)
		case tc.want != "" && strings.Contains(got.Error(), hash):
			t.Errorf("%s: the message shows the password hash: %v", tc.stmt, got)
		}
	}
}
