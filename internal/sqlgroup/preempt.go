package sqlgroup

import "context"

// A failover must never wait behind a backup or a restore: a full backup or a seed restore can take
// hours (up to the group's backupRestoreTimeout). The log-shipping loop therefore holds the group's
// work lock with LockPreemptible, and a promotion takes it with LockPreempting, which cancels the
// loop's context: its BACKUP or RESTORE is cancelled (go-mssqldb sends an attention; SQL Server
// rolls the statement back and leaves the database as it was before it), the loop gives the lock
// up, and the promotion goes on at once. A cancelled backup is taken again by a later cycle; a
// cancelled restore leaves the standby in its restore sequence, where the promotion continues it.

// LockPreemptible takes the group's work lock like Lock, for work that may be cancelled: the
// returned context (derived from ctx) is cancelled when LockPreempting asks for the lock, also if it
// asked while this caller was still waiting. Call unlock when done.
func (r *Registry[P]) LockPreemptible(ctx context.Context, key Key) (context.Context, func()) {
	r.mu.Lock()
	g := r.getLocked(key)
	r.mu.Unlock()
	g.work.Lock()
	cctx, cancel := context.WithCancel(ctx)
	r.mu.Lock()
	g.preempt = cancel
	if g.preempting > 0 {
		cancel()
	}
	r.mu.Unlock()
	return cctx, func() {
		r.mu.Lock()
		g.preempt = nil
		r.mu.Unlock()
		cancel()
		g.work.Unlock()
	}
}

// LockPreempting takes the group's work lock, first cancelling the work of a LockPreemptible
// holder. Call unlock when done.
func (r *Registry[P]) LockPreempting(key Key) (unlock func()) {
	r.mu.Lock()
	g := r.getLocked(key)
	g.preempting++
	if g.preempt != nil {
		g.preempt()
	}
	r.mu.Unlock()
	g.work.Lock()
	r.mu.Lock()
	g.preempting--
	r.mu.Unlock()
	return g.work.Unlock
}
