package mssqlsim

import (
	"strings"
	"time"
)

func (ec *execCtx) execCreateDatabase(s *createDatabaseStmt) (stmtResult, error) {
	if ec.sess.tranCount > 0 {
		return stmtResult{}, sqlErr(226, 16, "CREATE DATABASE statement not allowed within multi-statement transaction.")
	}
	if ec.in.db(s.Name) != nil {
		return stmtResult{}, errDBExists(s.Name)
	}
	d, err := ec.in.createDatabaseLocked(s.Name, 0, recoveryFull, false)
	if err != nil {
		return stmtResult{}, err
	}
	d.OwnerSID = ec.callerSID()
	return stmtResult{}, ec.in.saveLocked()
}

func (ec *execCtx) execDropDatabase(s *dropDatabaseStmt) (stmtResult, error) {
	if ec.sess.tranCount > 0 {
		return stmtResult{}, sqlErr(3728, 16, "DROP DATABASE statement cannot be used inside a user transaction.")
	}
	d := ec.in.db(s.Name)
	if d == nil {
		if s.IfExists {
			return stmtResult{}, nil
		}
		return stmtResult{}, sqlErr(3701, 11, "Cannot drop the database '%s', because it does not exist or you do not have permission.", s.Name)
	}
	if d.System {
		return stmtResult{}, sqlErr(3708, 16, "Cannot drop the database '%s' because it is a system database.", d.Name)
	}
	if strings.EqualFold(ec.sess.database, d.Name) || len(ec.in.usersOf(d, ec.sess)) > 0 {
		return stmtResult{}, errDropInUse(d.Name)
	}
	delete(ec.in.dbs, strings.ToLower(d.Name))
	if err := ec.in.saveLocked(); err != nil {
		return stmtResult{}, err
	}
	if err := ec.in.store.removeDatabase(d.ID); err != nil {
		return stmtResult{}, err
	}
	return stmtResult{}, nil
}

// takeExclusive makes sure no other session uses d. With rollback, other
// sessions are killed (WITH ROLLBACK IMMEDIATE); otherwise busyErr is
// returned.
func (ec *execCtx) takeExclusive(d *database, rollback bool, busyErr error) error {
	others := ec.in.usersOf(d, ec.sess)
	if len(others) == 0 {
		return nil
	}
	if !rollback {
		return busyErr
	}
	for _, o := range others {
		ec.in.killLocked(o)
	}
	ec.writeInfo(5060, "Nonqualified transactions are being rolled back. Estimated rollback completion: 100%%.")
	return nil
}

func (ec *execCtx) execAlterDatabase(s *alterDatabaseStmt) (stmtResult, error) {
	d := ec.in.db(s.DB)
	if d == nil {
		return stmtResult{}, errDBNotExist(s.DB)
	}
	if ec.sess.tranCount > 0 {
		return stmtResult{}, sqlErr(226, 16, "ALTER DATABASE statement not allowed within multi-statement transaction.")
	}
	if d.State == stateRestoring {
		return stmtResult{}, sqlErr(5011, 14, "User does not have permission to alter database '%s', the database does not exist, or the database is not in a state that allows access checks.", d.Name)
	}
	if d.State == stateOffline && s.Option != "ONLINE" && s.Option != "OFFLINE" {
		return stmtResult{}, errDBOffline(d.Name)
	}
	switch s.Option {
	case "RECOVERY":
		if d.Name == "tempdb" {
			return stmtResult{}, sqlErr(5058, 16, "Option 'RECOVERY' cannot be set in database 'tempdb'.")
		}
		if s.Value != d.Recovery {
			if s.Value == recoverySimple {
				// Switching to SIMPLE breaks the log backup chain.
				d.LogChainStart = LSN{}
				d.LastLogBackupLSN = LSN{}
			}
			d.Recovery = s.Value
		}
	case "SINGLE_USER":
		if err := ec.takeExclusive(d, s.Rollback, errAlterLock(d.Name)); err != nil {
			return stmtResult{}, err
		}
		d.UserAccess = accessSingle
	case "RESTRICTED_USER":
		d.UserAccess = accessRestricted
	case "MULTI_USER":
		d.UserAccess = accessMulti
	case "OFFLINE":
		if strings.EqualFold(ec.sess.database, d.Name) {
			return stmtResult{}, errAlterLock(d.Name)
		}
		if err := ec.takeExclusive(d, s.Rollback, errAlterLock(d.Name)); err != nil {
			return stmtResult{}, err
		}
		d.State = stateOffline
	case "ONLINE":
		d.State = stateOnline
	case "TRUSTWORTHY":
		if err := ec.setTrustworthy(d, s.Value == "ON"); err != nil {
			return stmtResult{}, err
		}
	case "READ_ONLY", "READ_WRITE":
		if d.Standby {
			return stmtResult{}, errReadOnlyDB(d.Name)
		}
		if err := ec.takeExclusive(d, s.Rollback, errAlterLock(d.Name)); err != nil {
			return stmtResult{}, err
		}
		d.ReadOnly = s.Option == "READ_ONLY"
	}
	return stmtResult{}, ec.in.saveLocked()
}

func (ec *execCtx) execKill(s *killStmt) (stmtResult, error) {
	v, err := (&env{ec: ec}).eval(s.SPID)
	if err != nil {
		return stmtResult{}, err
	}
	spid, ok := v.asInt64()
	if !ok {
		return stmtResult{}, sqlErr(6112, 16, "KILL accepts a session id.")
	}
	if int(spid) == ec.sess.spid {
		return stmtResult{}, errKillSelf()
	}
	target := ec.in.sessions[int(spid)]
	if target == nil {
		return stmtResult{}, errKillNotFound(spid)
	}
	ec.in.killLocked(target)
	return stmtResult{}, nil
}

func (ec *execCtx) execCreateLogin(s *createLoginStmt) (stmtResult, error) {
	if ec.in.logins[strings.ToLower(s.Name)] != nil {
		return stmtResult{}, errLoginExists(s.Name)
	}
	// CHECK_POLICY defaults to ON, CHECK_EXPIRATION to OFF.
	policy, expiration := true, false
	if s.CheckPolicy != nil {
		policy = *s.CheckPolicy
	}
	if s.CheckExpiration != nil {
		expiration = *s.CheckExpiration
	}
	if err := checkPolicyOptions(policy, expiration, s.MustChange); err != nil {
		return stmtResult{}, err
	}
	e := &env{ec: ec}
	pw, err := e.eval(s.Password)
	if err != nil {
		return stmtResult{}, err
	}
	l := &loginRecord{Name: s.Name, DefaultDB: "master", CreateDate: time.Now().UTC(), PolicyChecked: policy, ExpirationChecked: expiration}
	if s.DefaultDB != "" {
		l.DefaultDB = s.DefaultDB
	}
	if s.Hashed {
		if pw.K != KindBytes || len(pw.B) != 70 || pw.B[0] != 0x02 || pw.B[1] != 0x00 {
			return stmtResult{}, sqlErr(15021, 16, "Invalid value given for parameter PASSWORD. Specify a valid parameter value.")
		}
		l.PasswordHash = append([]byte{}, pw.B...)
	} else {
		if pw.K != KindString {
			return stmtResult{}, sqlErr(15021, 16, "Invalid value given for parameter PASSWORD. Specify a valid parameter value.")
		}
		if policy {
			if err := checkPasswordComplexity(pw.S); err != nil {
				return stmtResult{}, err
			}
		}
		l.PasswordHash = hashPassword(pw.S, nil)
	}
	if s.SID != nil {
		sid, err := e.eval(s.SID)
		if err != nil {
			return stmtResult{}, err
		}
		if sid.K != KindBytes || len(sid.B) == 0 || len(sid.B) > 85 {
			return stmtResult{}, sqlErr(15419, 16, "Supplied parameter sid should be binary(16).")
		}
		for _, o := range ec.in.logins {
			if string(o.SID) == string(sid.B) {
				return stmtResult{}, sqlErr(15433, 16, "Supplied parameter sid is in use.")
			}
		}
		l.SID = append([]byte{}, sid.B...)
	} else {
		l.SID = newSID()
	}
	l.PrincipalID = ec.in.nextPrincipalID
	ec.in.nextPrincipalID++
	ec.in.logins[strings.ToLower(l.Name)] = l
	if err := ec.in.saveLocked(); err != nil {
		delete(ec.in.logins, strings.ToLower(l.Name))
		return stmtResult{}, err
	}
	return stmtResult{}, nil
}

func (ec *execCtx) execDropLogin(s *dropLoginStmt) (stmtResult, error) {
	l := ec.in.logins[strings.ToLower(s.Name)]
	if l == nil {
		return stmtResult{}, errLoginNotFound(s.Name)
	}
	if strings.EqualFold(l.Name, "sa") {
		return stmtResult{}, sqlErr(15151, 16, "Cannot drop the login 'sa', because it does not exist or you do not have permission.")
	}
	for _, sess := range ec.in.sessions {
		if strings.EqualFold(sess.login, l.Name) {
			return stmtResult{}, sqlErr(15434, 16, "Could not drop login '%s' as the user is currently logged in.", l.Name)
		}
	}
	delete(ec.in.logins, strings.ToLower(l.Name))
	return stmtResult{}, ec.in.saveLocked()
}

func (ec *execCtx) execAlterLogin(s *alterLoginStmt) (stmtResult, error) {
	l := ec.in.logins[strings.ToLower(s.Name)]
	if l == nil {
		return stmtResult{}, sqlErr(15151, 16, "Cannot alter the login '%s', because it does not exist or you do not have permission.", s.Name)
	}
	// Policy options ("Password policy"): CHECK_POLICY changed to ON also
	// turns CHECK_EXPIRATION ON unless the statement sets it, OFF turns it
	// OFF; the result must be a combination CREATE LOGIN accepts.
	policy, expiration := l.PolicyChecked, l.ExpirationChecked
	if s.CheckPolicy != nil {
		switch {
		case !*s.CheckPolicy:
			expiration = false
		case !policy:
			expiration = true
		}
		policy = *s.CheckPolicy
	}
	if s.CheckExpiration != nil {
		expiration = *s.CheckExpiration
	}
	if err := checkPolicyOptions(policy, expiration, false); err != nil {
		return stmtResult{}, err
	}
	hash := l.PasswordHash
	if s.Password != nil {
		pw, err := (&env{ec: ec}).eval(s.Password)
		if err != nil {
			return stmtResult{}, err
		}
		switch {
		case s.Hashed && pw.K == KindBytes && len(pw.B) == 70:
			hash = append([]byte{}, pw.B...)
		case !s.Hashed && pw.K == KindString:
			if policy {
				if err := checkPasswordComplexity(pw.S); err != nil {
					return stmtResult{}, err
				}
			}
			hash = hashPassword(pw.S, nil)
		default:
			return stmtResult{}, sqlErr(15021, 16, "Invalid value given for parameter PASSWORD. Specify a valid parameter value.")
		}
	}
	if s.Enable != nil {
		l.Disabled = !*s.Enable
	}
	l.PasswordHash, l.PolicyChecked, l.ExpirationChecked = hash, policy, expiration
	return stmtResult{}, ec.in.saveLocked()
}
