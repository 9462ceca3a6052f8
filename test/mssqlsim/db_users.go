package mssqlsim

import (
	"fmt"
	"sort"
	"strings"
)

// Database users are log records of their database, like its tables: a
// backup carries them and a restore replays them, with the SID they were
// created with. On another instance they map to the login with that SID,
// or to nobody (an orphaned user).

// Log record operations on database users.
const (
	opCreateUser     = "create_user"
	opDropUser       = "drop_user"
	opAddRoleMember  = "add_role_member"
	opDropRoleMember = "drop_role_member"
	opGrant          = "grant"
	opRevoke         = "revoke"
)

// principalChange is the payload of a user log record.
type principalChange struct {
	User string `json:"user"`
	SID  []byte `json:"sid,omitzero"`
	// Role is the database role of add/drop_role_member; Permission the
	// objectPermissionKey of grant/revoke.
	Role       string `json:"role,omitzero"`
	Permission string `json:"permission,omitzero"`
}

// applyPrincipal replays a user log record.
func (d *database) applyPrincipal(r logRecord) error {
	pc := r.Principal
	key := strings.ToLower(pc.User)
	if d.users == nil {
		d.users = map[string]*dbUser{}
	}
	if r.Op == opCreateUser {
		d.users[key] = &dbUser{Name: pc.User, SID: append([]byte{}, pc.SID...), Roles: map[string]bool{}, Perms: map[string]bool{}}
		return nil
	}
	u := d.users[key]
	if u == nil {
		return fmt.Errorf("log record %s at LSN %s references missing user %q", r.Op, r.LSN, pc.User)
	}
	switch r.Op {
	case opDropUser:
		delete(d.users, key)
	case opAddRoleMember:
		u.Roles[strings.ToLower(pc.Role)] = true
	case opDropRoleMember:
		delete(u.Roles, strings.ToLower(pc.Role))
	case opGrant:
		u.Perms[pc.Permission] = true
	case opRevoke:
		delete(u.Perms, pc.Permission)
	default:
		return fmt.Errorf("unknown user log record op %q at LSN %s", r.Op, r.LSN)
	}
	return nil
}

// user returns d's user name, or nil.
func (d *database) user(name string) *dbUser { return d.users[strings.ToLower(name)] }

// sortedUsers returns d's users by name.
func (d *database) sortedUsers() []*dbUser {
	out := make([]*dbUser, 0, len(d.users))
	for _, u := range d.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}
