package mssqlsim

import (
	"slices"
	"strings"
)

// securedView applies the caller's permissions to a catalog view the model
// answered (rel): SQL Server hides rows, hides a column's value, or refuses
// the view, depending on the view.
func (ec *execCtx) securedView(name objectName, rel relation) (relation, error) {
	n := strings.ToLower(name.name())
	switch strings.ToLower(name.schema()) {
	case "sys":
		return ec.securedSysView(n, rel)
	case "dbo", "":
		if n == "backupset" || n == "backupmediafamily" || n == "restorehistory" {
			return rel, ec.checkMsdbHistory(n)
		}
	}
	return rel, nil
}

func (ec *execCtx) securedSysView(n string, rel relation) (relation, error) {
	switch n {
	case "sql_logins", "server_principals":
		return ec.securedLogins(rel), nil
	case "dm_exec_sessions":
		// "If the user has VIEW SERVER STATE permission on the server, the
		// user will see all executing sessions on the instance of SQL
		// Server; otherwise, the user will see only the current session"
		// (sys.dm_exec_sessions, Permissions).
		if !ec.callerHas(permViewServerState) {
			return keepRows(rel, "session_id", func(v Value) bool { i, _ := v.asInt64(); return int(i) == ec.sess.spid }), nil
		}
	case "dm_tran_locks":
		// "Requires VIEW SERVER STATE permission" (sys.dm_tran_locks): a
		// DMV that needs it fails with 300 then 297 without it.
		if !ec.callerHas(permViewServerState) {
			return relation{}, SQLErrors{
				sqlErr(300, 14, "VIEW SERVER STATE permission was denied on object 'server', database 'master'."),
				sqlErr(297, 16, "The user does not have permission to perform this action."),
			}
		}
	case "master_files":
		// "The minimum permissions that are required to see the
		// corresponding row are CREATE DATABASE, ALTER ANY DATABASE, or
		// VIEW ANY DEFINITION" (sys.master_files, Permissions).
		if !ec.callerHas(permCreateAnyDatabase) && !ec.callerHas(permAlterAnyDatabase) && !ec.callerHas(permViewAnyDefinition) {
			return relation{Cols: rel.Cols}, nil
		}
	}
	return rel, nil
}

// securedLogins: "Any login can see their own login name, the system
// logins, and the fixed server roles. To see other logins, requires ALTER
// ANY LOGIN, or a permission on the login" (sys.server_principals,
// Permissions); VIEW ANY DEFINITION shows them too. password_hash: "To
// view the contents of the password_hash column, CONTROL SERVER is
// required. Starting with SQL Server 2022 (16.x), VIEW ANY
// CRYPTOGRAPHICALLY SECURED DEFINITION permission is required"
// (sys.sql_logins): without it the column is NULL. sa is not shown to
// others (the simulator's reading of "system logins" is the ##...##
// certificate logins, which it does not have).
func (ec *execCtx) securedLogins(rel relation) relation {
	if !ec.callerHas(permAlterAnyLogin) && !ec.callerHas(permViewAnyDefinition) {
		rel = keepRows(rel, "name", func(v Value) bool { return strings.EqualFold(v.String(), ec.sess.login) })
	}
	if hash := columnIndex(rel, "password_hash"); hash >= 0 && !ec.callerHas(permViewAnyCryptoDefinition) {
		for _, row := range rel.Rows {
			row[hash] = nullValue()
		}
	}
	return rel
}

// checkMsdbHistory: msdb's backup history tables are ordinary msdb tables.
// Microsoft does not say whether public may read them, so the simulator
// does not depend on it: it needs SELECT on the table for the caller's
// user in msdb (or db_datareader, db_owner, sysadmin). Refused: 229.
func (ec *execCtx) checkMsdbHistory(table string) error {
	msdb := ec.in.db("msdb")
	if msdb == nil || ec.callerHasObjectPermission(msdb, "SELECT", "dbo."+table) {
		return nil
	}
	return sqlErr(229, 14, "The SELECT permission was denied on the object '%s', database 'msdb', schema 'dbo'.", table)
}

// columnIndex is the index of rel's column name, or -1.
func columnIndex(rel relation, name string) int {
	for i, c := range rel.Cols {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

// keepRows returns rel with the rows whose column col satisfies keep.
func keepRows(rel relation, col string, keep func(Value) bool) relation {
	i := columnIndex(rel, col)
	out := relation{Cols: rel.Cols}
	for _, row := range rel.Rows {
		if i >= 0 && keep(row[i]) {
			out.Rows = append(out.Rows, row)
		}
	}
	return out
}

// databasePrincipalsView answers sys.database_principals of the database
// the name is qualified with (or the current one): its users, with their
// SID, whether or not a login of this instance has it.
func (ec *execCtx) databasePrincipalsView(name objectName) (relation, bool, error) {
	if !strings.EqualFold(name.schema(), "sys") || !strings.EqualFold(name.name(), "database_principals") {
		return relation{}, false, nil
	}
	d, err := ec.dbForScopedView(strings.ToLower(name.database()))
	if err != nil {
		return relation{}, true, err
	}
	r := relation{Cols: cols("name", typeSysname, "principal_id", typeInt, "type", char(1), "type_desc", typeDesc, "sid", typeSID)}
	for i, u := range d.sortedUsers() {
		r.Rows = append(r.Rows, []Value{strValue(u.Name), intValue(int64(5 + i)), strValue("S"), strValue("SQL_USER"), bytesValue(u.SID)})
	}
	return r, true, nil
}

// permissionFunction evaluates HAS_PERMS_BY_NAME(NULL, NULL, permission),
// the caller's server permission (1 or 0; NULL for a permission the
// simulator does not know, as for an invalid name; other securable classes
// are not modelled), and IS_SRVROLEMEMBER(role [, login]) (1, 0, NULL for
// an unknown role or login).
func (e *env) permissionFunction(n exFunc) (Value, error) {
	ec := e.ec
	if n.Name == "HAS_PERMS_BY_NAME" {
		a, err := e.args(n, 3, 3)
		if err != nil {
			return Value{}, err
		}
		if !a[0].IsNull() || !a[1].IsNull() {
			return Value{}, errNotSupported("HAS_PERMS_BY_NAME on a securable other than the server")
		}
		p := strings.ToUpper(a[2].String())
		if _, ok := serverPermissions[p]; !ok {
			return nullValue(), nil
		}
		return intValue(b2i(ec.callerHas(p))), nil
	}
	a, err := e.args(n, 1, 2)
	if err != nil {
		return Value{}, err
	}
	role := strings.ToLower(a[0].String())
	l := ec.callerLogin()
	if len(a) == 2 {
		l = ec.in.logins[strings.ToLower(a[1].String())]
	}
	if _, ok := fixedServerRoles[role]; !ok || l == nil {
		return nullValue(), nil
	}
	member := slices.Contains(l.ServerRoles, role) || (role == roleSysadmin && l.isSysadmin())
	return intValue(b2i(member)), nil
}
