package mssqlsim

import (
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"time"
)

// loginRecord is a SQL login as listed by sys.sql_logins.
type loginRecord struct {
	PrincipalID  int       `json:"principalId"`
	Name         string    `json:"name"`
	SID          []byte    `json:"sid"`
	PasswordHash []byte    `json:"passwordHash"`
	DefaultDB    string    `json:"defaultDb"`
	Disabled     bool      `json:"disabled,omitzero"`
	CreateDate   time.Time `json:"createDate"`
	// PolicyChecked and ExpirationChecked are is_policy_checked and
	// is_expiration_checked (CHECK_POLICY, CHECK_EXPIRATION).
	PolicyChecked     bool `json:"policyChecked,omitzero"`
	ExpirationChecked bool `json:"expirationChecked,omitzero"`
	// ServerRoles are the fixed server roles the login is a member of
	// (lower case); ServerPerms its granted server permissions (upper
	// case). See permissions.go.
	ServerRoles []string `json:"serverRoles,omitzero"`
	ServerPerms []string `json:"serverPerms,omitzero"`
}

// checkPolicyOptions applies SQL Server's rules on CHECK_POLICY and
// CHECK_EXPIRATION (CREATE LOGIN and ALTER LOGIN remarks, "Password
// policy"): CHECK_EXPIRATION ON needs CHECK_POLICY ON (15122), and
// MUST_CHANGE needs CHECK_EXPIRATION ON (15099).
func checkPolicyOptions(policy, expiration, mustChange bool) error {
	if expiration && !policy {
		return sqlErr(15122, 16, "The CHECK_EXPIRATION option cannot be used when CHECK_POLICY is OFF.")
	}
	if mustChange && !expiration {
		return sqlErr(15099, 16, "The MUST_CHANGE option cannot be used when CHECK_EXPIRATION is OFF.")
	}
	return nil
}

// checkPasswordComplexity is the password complexity policy SQL Server
// applies to a clear-text password when CHECK_POLICY is ON: at least 8
// characters (15116) and characters of at least three of upper case, lower
// case, digits and other characters (15118). A HASHED password cannot be
// checked and is not. The policy's third rule (the password must not
// contain the login name) is not simulated.
func checkPasswordComplexity(password string) error {
	if len([]rune(password)) < 8 {
		return sqlErr(15116, 16, "Password validation failed. The password does not meet the operating system policy requirements because it is too short.")
	}
	var upper, lower, digit, other int
	for _, r := range password {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = 1
		case r >= 'a' && r <= 'z':
			lower = 1
		case r >= '0' && r <= '9':
			digit = 1
		default:
			other = 1
		}
	}
	if upper+lower+digit+other < 3 {
		return sqlErr(15118, 16, "Password validation failed. The password does not meet the operating system policy requirements because it is not complex enough.")
	}
	return nil
}

// hashPassword builds a SQL Server 2012+ password hash: 0x0200, a 4-byte
// salt, then SHA2-512 over the UTF-16LE password followed by the salt. A
// hash copied with CREATE LOGIN ... PASSWORD = 0x... HASHED therefore keeps
// working on another instance.
func hashPassword(password string, salt []byte) []byte {
	if salt == nil {
		salt = make([]byte, 4)
		if _, err := rand.Read(salt); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
	}
	h := sha512.New()
	h.Write(stringToUCS2(password))
	h.Write(salt)
	out := []byte{0x02, 0x00}
	out = append(out, salt...)
	return h.Sum(out)
}

// checkPassword verifies password against a stored hash.
func checkPassword(hash []byte, password string) bool {
	if len(hash) != 2+4+sha512.Size || hash[0] != 0x02 || hash[1] != 0x00 {
		return false
	}
	want := hashPassword(password, hash[2:6])
	return subtle.ConstantTimeCompare(want, hash) == 1
}

func newSID() []byte {
	sid := make([]byte, 16)
	if _, err := rand.Read(sid); err != nil {
		panic(err)
	}
	return sid
}

func newGUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return formatGUID(b)
}
