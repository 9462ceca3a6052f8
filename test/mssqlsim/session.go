package mssqlsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// session is one client connection after LOGIN7. Fields other than the
// attention state are guarded by instance.mu.
type session struct {
	srv        *Server
	conn       net.Conn
	spid       int
	login      string
	loginDB    string
	database   string
	appName    string
	hostName   string
	clientPID  uint32
	loginTime  time.Time
	lastReqEnd time.Time
	status     string
	packetSize int

	tranCount    int
	tranID       uint64
	pending      []pendingWrite
	nocount      bool
	lastRowCount int64
	lastIdentity Value

	ctx    context.Context
	cancel context.CancelFunc
	killed atomic.Bool

	attnMu      sync.Mutex
	reqCancel   context.CancelFunc
	attnPending int
}

// pendingWrite is a write made inside an explicit transaction; it becomes
// durable at COMMIT and is discarded by ROLLBACK.
type pendingWrite struct {
	db   *database
	recs []logRecord
}

var tranIDs atomic.Uint64

func (s *session) kill() {
	s.killed.Store(true)
	s.cancel()
	s.conn.Close()
}

// write sends a reply message split at the negotiated packet size.
func (s *session) write(payload []byte) error {
	_, err := s.conn.Write(splitPackets(pktReply, payload, s.packetSize, uint16(s.spid)))
	return err
}

// wait blocks for d or until ctx is done; it returns ctx.Err() when
// interrupted.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serveConn runs the PRELOGIN (with its TLS handshake) and LOGIN7 and then serves
// requests until the connection closes.
func (srv *Server) serveConn(conn net.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-ctx.Done(); conn.Close() }()
	// PRELOGIN (MS-TDS 2.2.6.5) and the encryption it negotiates.
	ch, ok := srv.negotiate(ctx, conn)
	if !ok {
		return
	}

	// LOGIN7 (MS-TDS 2.2.6.4).
	msg, err := readMessage(ch.login)
	if err != nil {
		return
	}
	if msg.Type != pktLogin7 {
		srv.logf("mssqlsim: expected LOGIN7, got packet type %#x; closing", msg.Type)
		return
	}
	lg, err := parseLogin7(msg.Data)
	if err != nil {
		srv.logf("mssqlsim: %v", err)
		return
	}
	if srv.waitHang(ctx) != nil {
		return
	}
	s := &session{srv: srv, conn: ch.session, ctx: ctx, cancel: cancel, packetSize: clampPacketSize(int(lg.PacketSize)), status: "sleeping"}
	resp, ok := srv.login(s, lg)
	if err := s.write(resp); err != nil || !ok {
		return
	}
	defer srv.endSession(s)
	s.serve()
}

func clampPacketSize(n int) int {
	switch {
	case n == 0:
		return defaultPacketSize
	case n < minPacketSize:
		return minPacketSize
	case n > maxPacketSize:
		return maxPacketSize
	}
	return n
}

func (srv *Server) versionBytes() [4]byte {
	var v [4]byte
	parts := strings.Split(srv.opts.ProductVersion, ".")
	var n [4]int
	for i := 0; i < len(parts) && i < 4; i++ {
		fmt.Sscan(parts[i], &n[i])
	}
	v[0], v[1] = byte(n[0]), byte(n[1])
	v[2], v[3] = byte(n[2]>>8), byte(n[2])
	return v
}

// login authenticates a LOGIN7 request and builds the response. ok is false
// when the login failed; the caller then closes the connection after
// sending the errors, as SQL Server does.
func (srv *Server) login(s *session, lg *login7) ([]byte, bool) {
	in := srv.inst
	in.mu.Lock()
	defer in.mu.Unlock()
	var ts tokenStream
	fail := func(errs ...error) ([]byte, bool) {
		for _, e := range errs {
			for _, se := range asSQLErrors(e) {
				ts.sqlError(se, in.serverName)
			}
		}
		ts.done(tokDone, doneError, cmdNone, 0)
		return ts.b, false
	}
	l := in.logins[strings.ToLower(lg.UserName)]
	if lg.SSPI || l == nil || l.Disabled || !checkPassword(l.PasswordHash, lg.Password) {
		return fail(errLoginFailed(lg.UserName))
	}
	dbName := lg.Database
	if dbName == "" {
		dbName = l.DefaultDB
	}
	d := in.db(dbName)
	if d == nil {
		return fail(errCannotOpenLoginDB(dbName), errLoginFailed(l.Name))
	}
	if err := in.checkCanUse(d, s); err != nil {
		return fail(err, errCannotOpenLoginDB(dbName), errLoginFailed(l.Name))
	}
	s.spid = in.nextSPID
	in.nextSPID++
	s.login = l.Name
	s.loginDB = d.Name
	s.database = d.Name
	s.appName = lg.AppName
	s.hostName = lg.HostName
	s.clientPID = lg.ClientPID
	s.loginTime = time.Now()
	s.lastReqEnd = s.loginTime
	in.sessions[s.spid] = s

	ts.envDatabase(d.Name, "master")
	ts.info(5701, fmt.Sprintf("Changed database context to '%s'.", d.Name), in.serverName)
	ts.envCollation()
	ts.info(5703, "Changed language setting to us_english.", in.serverName)
	ts.loginAck("Microsoft SQL Server", srv.versionBytes())
	ts.envPacketSize(s.packetSize)
	ts.done(tokDone, doneFinal, cmdNone, 0)
	return ts.b, true
}

// checkCanUse reports why session s may not use database d (USE, login
// database): restoring (927), offline (942), single-user (924).
func (in *instance) checkCanUse(d *database, s *session) error {
	switch {
	case d.State == stateRestoring:
		return errDBRestoring(d.Name)
	case d.State == stateOffline:
		return errDBOffline(d.Name)
	case d.UserAccess == accessSingle && len(in.usersOf(d, s)) > 0:
		return errDBSingleUser(d.Name)
	}
	return nil
}

func (srv *Server) endSession(s *session) {
	in := srv.inst
	in.mu.Lock()
	if in.sessions[s.spid] == s {
		delete(in.sessions, s.spid)
	}
	s.pending = nil
	in.mu.Unlock()
}

// serve reads requests and answers them. A reader goroutine watches for
// Attention messages (MS-TDS 2.2.1.7) while a request runs, so that a
// cancelled request stops and is acknowledged with DONE_ATTN.
func (s *session) serve() {
	reqs := make(chan tdsMessage, 16)
	go func() {
		defer close(reqs)
		for {
			msg, err := readMessage(s.conn)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !s.killed.Load() {
					s.srv.logf("mssqlsim: session %d: %v", s.spid, err)
				}
				s.cancel()
				return
			}
			if msg.Type == pktAttention {
				s.attnMu.Lock()
				s.attnPending++
				if s.reqCancel != nil {
					s.reqCancel()
				}
				s.attnMu.Unlock()
			}
			select {
			case reqs <- msg:
			case <-s.ctx.Done():
				return
			}
		}
	}()
	for msg := range reqs {
		if s.ctx.Err() != nil {
			return
		}
		if msg.Type == pktAttention {
			s.attnMu.Lock()
			ack := s.attnPending > 0
			if ack {
				s.attnPending--
			}
			s.attnMu.Unlock()
			if ack {
				if s.write(attentionAck()) != nil {
					return
				}
			}
			continue
		}
		if msg.Status&statusIgnore != 0 {
			continue
		}
		reqCtx, cancel := context.WithCancel(s.ctx)
		s.attnMu.Lock()
		s.reqCancel = cancel
		// The client only sends Attention for its in-flight request and
		// waits for the acknowledgement before sending anything else, so an
		// attention that is already pending (read before this request was
		// picked up) cancels this request.
		if s.attnPending > 0 {
			cancel()
		}
		s.attnMu.Unlock()
		resp, fatal := s.handle(reqCtx, msg)
		s.attnMu.Lock()
		s.reqCancel = nil
		cancelled := reqCtx.Err() != nil && s.attnPending > 0
		if cancelled {
			s.attnPending--
		}
		s.attnMu.Unlock()
		cancel()
		if s.ctx.Err() != nil {
			return
		}
		if cancelled {
			resp = attentionAck()
		}
		if err := s.write(resp); err != nil || fatal {
			return
		}
	}
}

// attentionAck is the DONE with DONE_ATTN that acknowledges an Attention.
func attentionAck() []byte {
	var ts tokenStream
	ts.done(tokDone, doneAttn, cmdNone, 0)
	return ts.b
}

// handle runs one request message and returns the response. fatal means the
// connection must be closed after the response (protocol error).
func (s *session) handle(ctx context.Context, msg tdsMessage) ([]byte, bool) {
	if err := s.srv.waitHang(ctx); err != nil {
		return nil, false
	}
	var ts tokenStream
	in := s.srv.inst
	if msg.resetConnection() {
		in.mu.Lock()
		s.resetLocked(&ts)
		in.mu.Unlock()
	}
	switch msg.Type {
	case pktSQLBatch:
		text, err := parseSQLBatch(msg.Data)
		if err != nil {
			return s.protocolError(&ts, err), true
		}
		s.runBatch(ctx, &ts, text, nil, false)
	case pktRPC:
		req, err := parseRPC(msg.Data)
		if err != nil {
			return s.protocolError(&ts, err), true
		}
		s.runRPC(ctx, &ts, req)
	case pktTransMgr:
		t, err := parseTransMgr(msg.Data)
		if err != nil {
			return s.protocolError(&ts, err), true
		}
		s.runTransMgr(&ts, t)
	default:
		return s.protocolError(&ts, fmt.Errorf("unsupported packet type %#x", msg.Type)), true
	}
	return ts.b, false
}

func (s *session) protocolError(ts *tokenStream, err error) []byte {
	s.srv.logf("mssqlsim: session %d: protocol error: %v", s.spid, err)
	ts.sqlError(sqlErr(4002, 16, "The incoming tabular data stream (TDS) protocol stream is incorrect. %v", err), s.srv.inst.serverName)
	ts.done(tokDone, doneError, cmdNone, 0)
	return ts.b
}

// resetLocked implements the RESETCONNECTION status bit (MS-TDS 2.2.3.1.2):
// sp_reset_connection semantics, i.e. the login database is restored, an
// open transaction is rolled back and SET options return to defaults.
func (s *session) resetLocked(ts *tokenStream) {
	in := s.srv.inst
	if s.tranCount > 0 {
		s.pending = nil
		s.tranCount = 0
	}
	s.nocount = false
	if !strings.EqualFold(s.database, s.loginDB) {
		if d := in.db(s.loginDB); d != nil && in.checkCanUse(d, s) == nil {
			old := s.database
			s.database = d.Name
			ts.envDatabase(d.Name, old)
		}
	}
	ts.envChangeBytes(envResetAck, nil, nil)
}

// runTransMgr handles TM_BEGIN_XACT / TM_COMMIT_XACT / TM_ROLLBACK_XACT
// as sent by database/sql BeginTx, Commit and Rollback.
func (s *session) runTransMgr(ts *tokenStream, t uint16) {
	in := s.srv.inst
	in.mu.Lock()
	defer in.mu.Unlock()
	var err error
	switch t {
	case tmBeginXact:
		s.beginTranLocked(ts)
	case tmCommitXact:
		err = s.commitTranLocked(ts, true)
	case tmRollbackXact:
		err = s.rollbackTranLocked(ts)
	default:
		err = sqlErr(4002, 16, "transaction manager request %d is not supported by mssqlsim", t)
	}
	if err != nil {
		for _, e := range asSQLErrors(err) {
			ts.sqlError(e, in.serverName)
		}
		ts.done(tokDone, doneError, cmdNone, 0)
		return
	}
	ts.done(tokDone, doneFinal, cmdNone, 0)
}

func (s *session) beginTranLocked(ts *tokenStream) {
	s.tranCount++
	if s.tranCount == 1 {
		s.tranID = tranIDs.Add(1)
		ts.envChangeBytes(envBeginTran, txnDescriptor(s.tranID), nil)
	}
}

// commitTranLocked makes pending writes durable. all commits every nesting
// level (transaction manager COMMIT).
func (s *session) commitTranLocked(ts *tokenStream, all bool) error {
	if s.tranCount == 0 {
		return errNoTransaction("COMMIT TRANSACTION")
	}
	s.tranCount--
	if all {
		s.tranCount = 0
	}
	if s.tranCount > 0 {
		return nil
	}
	pending := s.pending
	s.pending = nil
	ts.envChangeBytes(envCommitTran, nil, txnDescriptor(s.tranID))
	in := s.srv.inst
	for _, p := range pending {
		if in.dbs[strings.ToLower(p.db.Name)] != p.db {
			continue // database dropped or replaced meanwhile
		}
		if err := in.commitLocked(p.db, p.recs); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) rollbackTranLocked(ts *tokenStream) error {
	if s.tranCount == 0 {
		return errNoTransaction("ROLLBACK TRANSACTION")
	}
	s.tranCount = 0
	s.pending = nil
	ts.envChangeBytes(envRollbackTran, nil, txnDescriptor(s.tranID))
	return nil
}
