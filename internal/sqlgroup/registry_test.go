package sqlgroup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/logshipping"
	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// fakePool counts its Close calls.
type fakePool struct {
	cfg    sqlserver.Config
	closed atomic.Int32
}

func (p *fakePool) Close() error {
	p.closed.Add(1)
	return nil
}

// opener opens fake pools and remembers them all.
type opener struct {
	mu    sync.Mutex
	pools []*fakePool
}

func (o *opener) open(cfg sqlserver.Config) (*fakePool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := &fakePool{cfg: cfg}
	o.pools = append(o.pools, p)
	return p, nil
}

func (o *opener) all() []*fakePool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*fakePool(nil), o.pools...)
}

func cfgOf(host string) sqlserver.Config {
	return sqlserver.Config{Host: host, Port: 1433, Username: "sa", Password: "pw"}
}

// fill gives a group everything the registry holds: a lock, reconciler pools to two members, a
// Shipper, probe targets (with their pools) and restore times.
func fill(t *testing.T, r *Registry[*fakePool], key Key, shared string) {
	t.Helper()
	r.Lock(key)()
	for _, m := range []string{"a", "b"} {
		if _, err := r.Pool(key, m, cfgOf(key.Name+"-"+m)); err != nil {
			t.Fatal(err)
		}
		addr := key.Name + "-" + m + ":1433"
		if m == "b" && shared != "" {
			addr = shared // several groups probe one instance
		}
		r.SetProbe(key, m, addr, ProbeTarget{Config: cfgOf(addr), Databases: []string{"Sales"}, Role: roleOf(m == "a")})
		if _, _, err := r.Probe(addr); err != nil {
			t.Fatal(err)
		}
		r.LastRestore(key, "sched/"+m, time.Unix(1, 0))
		r.Restored(key, "sched/"+m, time.Unix(2, 0))
	}
	if _, err := r.Shipper(key, "v1", func() (*logshipping.Shipper, error) { return &logshipping.Shipper{}, nil }); err != nil {
		t.Fatal(err)
	}
}

func TestForgetThousandGroupsNoGrowth(t *testing.T) {
	var o opener
	r := New(o.open)
	const n = 1000
	keys := make([]Key, n)
	for i := range keys {
		keys[i] = Key{Namespace: fmt.Sprintf("ns%d", i%7), Name: fmt.Sprintf("g%d", i)}
		fill(t, r, keys[i], "shared:1433")
	}
	if r.Len() != n {
		t.Fatalf("Len = %d after creating %d groups", r.Len(), n)
	}
	pools := o.all()
	if len(pools) != 4*n { // two reconciler pools and two health-check pools per group
		t.Fatalf("%d pools opened, want %d", len(pools), 4*n)
	}
	for _, p := range pools {
		if p.closed.Load() != 0 {
			t.Fatalf("pool to %s closed while its group lives", p.cfg.Host)
		}
	}
	for _, k := range keys {
		r.Forget(k)
	}
	if r.Len() != 0 || len(r.groups) != 0 || len(r.probed) != 0 {
		t.Fatalf("after Forget of every group: %d groups, %d probed addresses", len(r.groups), len(r.probed))
	}
	for _, p := range pools {
		if c := p.closed.Load(); c != 1 {
			t.Fatalf("pool to %s closed %d times, want once", p.cfg.Host, c)
		}
	}
	// Forget is idempotent, and a group created again starts empty.
	r.Forget(keys[0])
	if _, _, err := r.Probe("shared:1433"); err == nil {
		t.Fatal("a forgotten group's probe target still answers")
	}
	if last := r.LastRestore(keys[0], "sched/a", time.Unix(9, 0)); !last.Equal(time.Unix(9, 0)) {
		t.Fatalf("restore time survived Forget: %v", last)
	}
}

func TestForgetLeavesOtherGroups(t *testing.T) {
	var o opener
	r := New(o.open)
	a, b := Key{Namespace: "db", Name: "sales"}, Key{Namespace: "db", Name: "crm"}
	fill(t, r, a, "shared:1433")
	salesPools := o.all()
	fill(t, r, b, "shared:1433")
	crmPools := o.all()[len(salesPools):]
	shB, _ := r.Shipper(b, "v1", nil)

	r.Forget(a)
	if r.Tracked(a) || !r.Tracked(b) || r.Len() != 1 {
		t.Fatalf("tracked: sales %v, crm %v, Len %d", r.Tracked(a), r.Tracked(b), r.Len())
	}
	for _, p := range salesPools {
		if got := p.closed.Load(); got != 1 {
			t.Errorf("sales's pool to %s closed %d times, want once", p.cfg.Host, got)
		}
	}
	for _, p := range crmPools {
		if got := p.closed.Load(); got != 0 {
			t.Errorf("crm's pool to %s closed %d times by sales's Forget", p.cfg.Host, got)
		}
	}
	// crm keeps its pools (the same ones), Shipper, restore times and probe targets; the address
	// both groups probe now answers with crm's.
	before := len(o.all())
	if _, err := r.Pool(b, "a", cfgOf("crm-a")); err != nil || len(o.all()) != before {
		t.Fatalf("crm's pool was reopened (%v)", err)
	}
	if sh, _ := r.Shipper(b, "v1", nil); sh != shB {
		t.Fatal("crm's Shipper was dropped")
	}
	if last := r.LastRestore(b, "sched/a", time.Unix(9, 0)); !last.Equal(time.Unix(2, 0)) {
		t.Fatalf("crm's restore time is %v", last)
	}
	if tgt, p, err := r.Probe("shared:1433"); err != nil || tgt.Role == sqlserver.RolePrimary || p != crmPools[3] || len(o.all()) != before {
		t.Fatalf("shared address after sales is forgotten: %+v %v", tgt, err)
	}
	if _, _, err := r.Probe("crm-a:1433"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Probe("sales-a:1433"); err == nil {
		t.Fatal("sales's address still answers")
	}
}

func TestPoolReopensOnChange(t *testing.T) {
	var o opener
	r := New(o.open)
	key := Key{Namespace: "db", Name: "sales"}
	cfg := cfgOf("127.0.0.1")
	a, _ := r.Pool(key, "ds1", cfg)
	if again, _ := r.Pool(key, "ds1", cfg); again != a {
		t.Error("same config must reuse the pool")
	}
	cfg.Password = "rotated"
	b, _ := r.Pool(key, "ds1", cfg)
	if b == a || a.closed.Load() != 1 {
		t.Errorf("a rotated password must open a new pool and close the old (closed %d)", a.closed.Load())
	}
	failing := New(func(sqlserver.Config) (*fakePool, error) { return nil, errors.New("bad CA") })
	if _, err := failing.Pool(key, "ds1", cfg); err == nil || !strings.Contains(err.Error(), "open SQL Server connection to 127.0.0.1:1433") {
		t.Fatalf("open error %v", err)
	}
}

func TestProbeFollowsAddressAndMembers(t *testing.T) {
	var o opener
	r := New(o.open)
	key := Key{Namespace: "db", Name: "sales"}
	r.SetProbe(key, "ds1", "10.0.0.1:1433", ProbeTarget{Config: cfgOf("10.0.0.1"), Role: sqlserver.RolePrimary})
	_, old, err := r.Probe("10.0.0.1:1433")
	if err != nil {
		t.Fatal(err)
	}
	// A new pod IP: the old address no longer answers, and the check's pool follows the endpoint.
	r.SetProbe(key, "ds1", "10.0.0.2:1433", ProbeTarget{Config: cfgOf("10.0.0.2"), Role: sqlserver.RolePrimary})
	if _, _, err := r.Probe("10.0.0.1:1433"); err == nil {
		t.Fatal("the member's old address still answers")
	}
	tgt, cur, err := r.Probe("10.0.0.2:1433")
	if err != nil || tgt.Role != sqlserver.RolePrimary || cur == old || old.closed.Load() != 1 {
		t.Fatalf("new address: %+v %v (old pool closed %d)", tgt, err, old.closed.Load())
	}
	// Unknown addresses say so.
	if _, _, err := r.Probe("10.9.9.9:1433"); err == nil || !strings.Contains(err.Error(), "no SQL Server login known for 10.9.9.9:1433") {
		t.Fatalf("unknown address: %v", err)
	}
	// A member removed from the spec loses its pools and probe target.
	reconcilerPool, _ := r.Pool(key, "ds1", cfgOf("10.0.0.2"))
	kept, _ := r.Pool(key, "ds2", cfgOf("10.0.0.3"))
	r.RetainMembers(key, []string{"ds2"})
	if cur.closed.Load() != 1 || reconcilerPool.closed.Load() != 1 || kept.closed.Load() != 0 {
		t.Fatalf("closed: probe %d, reconciler %d, kept %d", cur.closed.Load(), reconcilerPool.closed.Load(), kept.closed.Load())
	}
	if _, _, err := r.Probe("10.0.0.2:1433"); err == nil || len(r.probed) != 0 {
		t.Fatal("a removed member's address still answers")
	}
	r.RetainMembers(Key{Namespace: "db", Name: "other"}, nil)
	if r.Tracked(Key{Namespace: "db", Name: "other"}) {
		t.Fatal("RetainMembers created state")
	}
}

func TestShipperRebuiltOnChange(t *testing.T) {
	r := New((&opener{}).open)
	key := Key{Namespace: "db", Name: "sales"}
	builds := 0
	build := func() (*logshipping.Shipper, error) { builds++; return &logshipping.Shipper{}, nil }
	a, _ := r.Shipper(key, "v1", build)
	b, _ := r.Shipper(key, "v1", build)
	c, _ := r.Shipper(key, "v2", build)
	if a != b || a == c || builds != 2 {
		t.Fatalf("builds %d", builds)
	}
	if _, err := r.Shipper(key, "v3", func() (*logshipping.Shipper, error) { return nil, errors.New("bad schedule") }); err == nil {
		t.Fatal("build error lost")
	}
	if d, _ := r.Shipper(key, "v2", build); d != c {
		t.Fatal("a failed build dropped the previous Shipper")
	}
}

func TestLockSerialisesOneGroupOnly(t *testing.T) {
	r := New((&opener{}).open)
	a, b := Key{Namespace: "db", Name: "sales"}, Key{Namespace: "db", Name: "crm"}
	unlock := r.Lock(a)
	done := make(chan struct{})
	go func() { r.Lock(b)(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("another group's lock waited")
	}
	got := make(chan struct{})
	go func() { r.Lock(a)(); close(got) }()
	select {
	case <-got:
		t.Fatal("the group's lock was taken twice")
	case <-time.After(50 * time.Millisecond):
	}
	unlock()
	<-got
}

// Concurrent use of many groups, with Forget racing the rest (go test -race).
func TestRegistryConcurrent(t *testing.T) {
	var o opener
	r := New(o.open)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				key := Key{Namespace: "ns", Name: fmt.Sprintf("g%d", (i*200+j)%50)}
				unlock := r.Lock(key)
				_, _ = r.Pool(key, "a", cfgOf(key.Name))
				r.SetProbe(key, "a", key.Name+":1433", ProbeTarget{Config: cfgOf(key.Name)})
				_, _, _ = r.Probe(key.Name + ":1433")
				r.Restored(key, "s/a", time.Now())
				unlock()
				if j%3 == 0 {
					r.Forget(key)
				}
			}
		}()
	}
	wg.Wait()
	for i := range 50 {
		r.Forget(Key{Namespace: "ns", Name: fmt.Sprintf("g%d", i)})
	}
	if r.Len() != 0 || len(r.probed) != 0 {
		t.Fatalf("%d groups, %d addresses left", r.Len(), len(r.probed))
	}
	for _, p := range o.all() {
		if p.closed.Load() != 1 {
			t.Fatalf("pool to %s closed %d times", p.cfg.Host, p.closed.Load())
		}
	}
}

func roleOf(primary bool) sqlserver.Role {
	if primary {
		return sqlserver.RolePrimary
	}
	return sqlserver.RoleStandby
}

// A promotion (LockPreempting) cancels the log-shipping work holding the lock and gets the lock at
// once; work that takes the lock while a promotion waits starts already cancelled; Lock is not
// preempted.
func TestLockPreempting(t *testing.T) {
	r := New((&opener{}).open)
	key := Key{Namespace: "db", Name: "sales"}
	ctx, unlock := r.LockPreemptible(context.Background(), key)
	released := make(chan struct{})
	go func() { // a long backup: runs until its context is cancelled
		<-ctx.Done()
		unlock()
		close(released)
	}()
	got := make(chan func())
	go func() { got <- r.LockPreempting(key) }()
	var unlockPromotion func()
	select {
	case unlockPromotion = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the promotion waited behind the log-shipping work")
	}
	<-released
	if ctx.Err() == nil {
		t.Fatal("the preempted work's context was not cancelled")
	}
	// Log-shipping work that asks while the promotion holds the lock waits, and is not cancelled
	// once the promotion is over.
	next := make(chan error)
	go func() {
		c, u := r.LockPreemptible(context.Background(), key)
		defer u()
		next <- c.Err()
	}()
	select {
	case <-next:
		t.Fatal("log-shipping work ran during the promotion")
	case <-time.After(50 * time.Millisecond):
	}
	unlockPromotion()
	if err := <-next; err != nil {
		t.Fatalf("work after the promotion started cancelled: %v", err)
	}
	// Plain Lock holders are not preempted: LockPreempting waits for them.
	unlockPlain := r.Lock(key)
	waited := make(chan struct{})
	go func() { r.LockPreempting(key)(); close(waited) }()
	select {
	case <-waited:
		t.Fatal("LockPreempting took a lock held by Lock")
	case <-time.After(50 * time.Millisecond):
	}
	unlockPlain()
	<-waited
}
