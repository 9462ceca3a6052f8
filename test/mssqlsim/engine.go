package mssqlsim

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// execCtx carries what a statement needs while it runs. Statements run
// with instance.mu held, except WAITFOR which sleeps without it.
type execCtx struct {
	ctx    context.Context
	sess   *session
	in     *instance
	params map[string]Value
	ts     *tokenStream
}

// stmtResult is what the DONE token of a statement reports.
type stmtResult struct {
	cmd   uint16
	rows  int64
	count bool
}

// runBatch parses and runs a batch (SQLBatch, or the @stmt of
// sp_executesql when rpc is true) and appends the response tokens. The batch
// stops at the first failing statement (documented difference: SQL Server
// continues after statement-level errors).
func (s *session) runBatch(ctx context.Context, ts *tokenStream, text string, params map[string]Value, rpc bool) (failed bool) {
	in := s.srv.inst
	doneTok := tokDone
	if rpc {
		doneTok = tokDoneInProc
	}
	emitErr := func(err error) {
		for _, e := range asSQLErrors(err) {
			ts.sqlError(e, in.serverName)
		}
	}
	stmts, err := parseBatch(text)
	if err != nil {
		emitErr(err)
		status := doneError
		if rpc {
			status |= doneMore
		}
		ts.done(doneTok, status, cmdNone, 0)
		return true
	}
	if len(stmts) == 0 {
		status := doneFinal
		if rpc {
			status = doneMore
		}
		ts.done(doneTok, status, cmdNone, 0)
		return false
	}
	return s.runStatements(ctx, ts, stmts, params, rpc, true)
}

// runStatements runs statements and writes one DONE (DONEINPROC for RPC)
// per statement. last tells whether these are the batch's final
// statements (the last DONE then has no DONE_MORE). IF and BEGIN...END run
// their chosen statements (each with its own DONE) and then get a DONE of
// their own.
func (s *session) runStatements(ctx context.Context, ts *tokenStream, stmts []stmt, params map[string]Value, rpc, last bool) (failed bool) {
	in := s.srv.inst
	doneTok := tokDone
	if rpc {
		doneTok = tokDoneInProc
	}
	emitErr := func(err error) {
		for _, e := range asSQLErrors(err) {
			ts.sqlError(e, in.serverName)
		}
	}
	var err error
	for i, st := range stmts {
		if ctx.Err() != nil {
			return true
		}
		ec := &execCtx{ctx: ctx, sess: s, in: in, params: params, ts: ts}
		var res stmtResult
		if w, ok := st.(*waitforStmt); ok {
			res, err = ec.waitfor(w)
		} else if branch, isFlow, berr := ec.controlFlow(st); isFlow {
			err = berr
			if err == nil && len(branch) > 0 && s.runStatements(ctx, ts, branch, params, rpc, false) {
				return true
			}
		} else {
			var killed bool
			res, killed, err = ec.execLocked(st)
			if killed {
				return true
			}
		}
		status := doneFinal
		if err != nil {
			emitErr(err)
			status |= doneError
		} else if i < len(stmts)-1 || !last {
			status |= doneMore
		}
		if rpc {
			status |= doneMore
		}
		if res.count && !s.nocount {
			status |= doneCount
		}
		if s.tranCount > 0 {
			status |= doneInXact
		}
		ts.done(doneTok, status, res.cmd, uint64(max(res.rows, 0)))
		s.srv.observe(Statement{Text: st.source(), Rows: res.rows, Failed: err != nil})
		if err != nil {
			return true
		}
	}
	return false
}

// runRPC executes an RPC request. Only sp_executesql is supported; other
// procedures fail with 2812.
func (s *session) runRPC(ctx context.Context, ts *tokenStream, req *rpcRequest) {
	in := s.srv.inst
	failed := false
	if !req.isExecuteSQL() {
		name := req.ProcName
		if name == "" {
			name = fmt.Sprintf("proc id %d", req.ProcID)
		}
		ts.sqlError(errProcNotFound(name).(*SQLError), in.serverName)
		failed = true
	} else if text, params, err := req.executeSQLArgs(); err != nil {
		for _, e := range asSQLErrors(err) {
			ts.sqlError(e, in.serverName)
		}
		failed = true
	} else {
		failed = s.runBatch(ctx, ts, text, params, true)
	}
	status := doneFinal
	if failed {
		status = doneError
	}
	ts.returnStatus(0)
	ts.done(tokDoneProc, status, cmdNone, 0)
}

// controlFlow evaluates IF conditions (under instance.mu) and returns the
// statements to run; isFlow is false for ordinary statements.
func (ec *execCtx) controlFlow(st stmt) (branch []stmt, isFlow bool, err error) {
	switch f := st.(type) {
	case *blockStmt:
		return f.Stmts, true, nil
	case *ifStmt:
		ec.in.mu.Lock()
		defer ec.in.mu.Unlock()
		v, err := (&env{ec: ec}).eval(f.Cond)
		if err != nil {
			return nil, true, err
		}
		if v.truthy() {
			return f.Then, true, nil
		}
		return f.Else, true, nil
	}
	return nil, false, nil
}

// execLocked runs one statement under instance.mu. A panic in the engine
// (a simulator bug) is reported as error 50000 instead of taking the
// process down.
func (ec *execCtx) execLocked(st stmt) (res stmtResult, killed bool, err error) {
	s := ec.sess
	ec.in.mu.Lock()
	defer ec.in.mu.Unlock()
	if s.killed.Load() {
		return res, true, nil
	}
	defer func() {
		if r := recover(); r != nil {
			res, err = stmtResult{}, sqlErr(50000, 16, "mssqlsim internal error: %v", r)
		}
		s.status = "sleeping"
		s.lastReqEnd = time.Now()
		if err == nil && res.count {
			s.lastRowCount = res.rows
		}
	}()
	s.status = "running"
	res, err = ec.exec(st)
	return res, false, err
}

// exec runs one statement with instance.mu held.
func (ec *execCtx) exec(st stmt) (stmtResult, error) {
	if err := ec.checkPermission(st); err != nil {
		return stmtResult{}, err
	}
	switch s := st.(type) {
	case *selectStmt:
		return ec.execSelect(s)
	case *insertStmt:
		return ec.execInsert(s)
	case *updateStmt:
		return ec.execUpdate(s)
	case *deleteStmt:
		return ec.execDelete(s)
	case *createTableStmt:
		return ec.execCreateTable(s)
	case *dropTableStmt:
		return ec.execDropTable(s)
	case *createDatabaseStmt:
		return ec.execCreateDatabase(s)
	case *dropDatabaseStmt:
		return ec.execDropDatabase(s)
	case *useStmt:
		return ec.execUse(s)
	case *backupStmt:
		return ec.execBackup(s)
	case *restoreStmt:
		return ec.execRestore(s)
	case *alterDatabaseStmt:
		return ec.execAlterDatabase(s)
	case *killStmt:
		return ec.execKill(s)
	case *createLoginStmt:
		return ec.execCreateLogin(s)
	case *dropLoginStmt:
		return ec.execDropLogin(s)
	case *alterLoginStmt:
		return ec.execAlterLogin(s)
	case *grantStmt:
		return ec.execGrant(s)
	case *createUserStmt:
		return ec.execCreateUser(s)
	case *dropUserStmt:
		return ec.execDropUser(s)
	case *alterRoleStmt:
		return ec.execAlterRole(s)
	case *alterAuthorizationStmt:
		return ec.execAlterAuthorization(s)
	case *beginTranStmt:
		ec.sess.beginTranLocked(ec.ts)
		return stmtResult{}, nil
	case *commitStmt:
		return stmtResult{}, ec.sess.commitTranLocked(ec.ts, false)
	case *rollbackStmt:
		return stmtResult{}, ec.sess.rollbackTranLocked(ec.ts)
	case *setOptionStmt:
		if s.Option == "NOCOUNT" {
			ec.sess.nocount = s.On
		}
		return stmtResult{}, nil
	case *checkpointStmt:
		d, err := ec.currentDB()
		if err != nil {
			return stmtResult{}, err
		}
		if d.writable() {
			return stmtResult{}, ec.in.commitLocked(d, []logRecord{{Op: opCheckpoint}})
		}
		return stmtResult{}, nil
	case *execStmt:
		switch s.Kind {
		case procCreateSubdir:
			return ec.execCreateSubdir(s)
		case procDeleteBackupHistory:
			return ec.execDeleteBackupHistory(s)
		}
		return stmtResult{}, errProcNotFound(s.Proc)
	}
	return stmtResult{}, errNotSupported(st.source())
}

func (ec *execCtx) waitfor(w *waitforStmt) (stmtResult, error) {
	ec.in.mu.Lock()
	v, err := (&env{ec: ec}).eval(w.Delay)
	ec.in.mu.Unlock()
	if err != nil {
		return stmtResult{}, err
	}
	d, err := parseDelay(v.String())
	if err != nil {
		return stmtResult{}, sqlErr(148, 15, "Incorrect time syntax in time string '%s' used with WAITFOR.", v.String())
	}
	if err := wait(ec.ctx, d); err != nil {
		return stmtResult{}, sqlErr(3617, 25, "The statement was cancelled.")
	}
	return stmtResult{}, nil
}

// parseDelay parses WAITFOR DELAY 'hh:mm:ss[.mmm]'.
func parseDelay(s string) (time.Duration, error) {
	var h, m int
	var sec float64
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("invalid delay %q", s)
	}
	if _, err := fmt.Sscan(parts[0], &h); err != nil {
		return 0, err
	}
	if _, err := fmt.Sscan(parts[1], &m); err != nil {
		return 0, err
	}
	if len(parts) == 3 {
		if _, err := fmt.Sscan(parts[2], &sec); err != nil {
			return 0, err
		}
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec*float64(time.Second)), nil
}

// currentDB returns the session's database.
func (ec *execCtx) currentDB() (*database, error) {
	d := ec.in.db(ec.sess.database)
	if d == nil {
		return nil, errDBNotExist(ec.sess.database)
	}
	return d, nil
}

func (ec *execCtx) execUse(s *useStmt) (stmtResult, error) {
	d := ec.in.db(s.DB)
	if d == nil {
		return stmtResult{}, errDBNotExist(s.DB)
	}
	if err := ec.in.checkCanUse(d, ec.sess); err != nil {
		return stmtResult{}, err
	}
	old := ec.sess.database
	ec.sess.database = d.Name
	ec.ts.envDatabase(d.Name, old)
	ec.ts.info(5701, fmt.Sprintf("Changed database context to '%s'.", d.Name), ec.in.serverName)
	return stmtResult{}, nil
}

// evalString evaluates an expression that must yield a string (paths,
// names given as parameters).
func (ec *execCtx) evalString(x expr, what string) (string, error) {
	v, err := (&env{ec: ec}).eval(x)
	if err != nil {
		return "", err
	}
	if v.IsNull() {
		return "", sqlErr(3249, 16, "%s must not be NULL.", what)
	}
	return v.String(), nil
}

// writeInfo sends an informational message (class 0).
func (ec *execCtx) writeInfo(number int32, format string, args ...any) {
	ec.ts.info(number, fmt.Sprintf(format, args...), ec.in.serverName)
}
