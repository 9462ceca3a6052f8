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
