package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/understudy-dev/understudy/api/v1alpha1"
	"github.com/understudy-dev/understudy/test/envtestutil"
	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// Options configure Run.
type Options struct {
	// Out receives the narration and, last, the DEMO SUMMARY line.
	Out io.Writer
	// Kubectl: "auto" (or empty) runs kubectl for `kubectl get` when it is on PATH and falls back to
	// the API server's Table; "off" always reads the Table from the API server.
	Kubectl string
}

// demo is one run: what it started (to clean up) and what it measured.
type demo struct {
	n    *narrator
	sum  *Summary
	opts Options
	root string // the temporary directory that holds every file of the run

	cl       *cluster
	tables   *tables
	ds1, ds2 *sqlMember
	backups  string
	caPEM    []byte  // the demo CA, which signs both members' certificates
	writer1  *writer // the application during the failover

	cleanups []cleanup
}

type cleanup struct {
	what string
	fn   func() error
}

// onCleanup registers fn to run at the end (last registered runs first).
func (d *demo) onCleanup(what string, fn func() error) {
	d.cleanups = append(d.cleanups, cleanup{what, fn})
}

// Run runs the whole demo and returns what it measured; the summary line is printed last, after
// everything was cleaned up. Cancelling ctx (Ctrl-C) stops the story and cleans up just the same.
func Run(ctx context.Context, opts Options) *Summary {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	d := &demo{n: newNarrator(opts.Out), sum: &Summary{LogInterval: logInterval}, opts: opts}
	defer func() { d.n.Line("%s", d.sum.Line()) }()
	defer d.cleanup()
	if err := d.run(ctx); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted: %w", err)
		}
		d.sum.Err = err
		d.n.Say("STOPPED: %v", err)
	}
	return d.sum
}

func (d *demo) cleanup() {
	d.n.Step("Clean up")
	for i := len(d.cleanups) - 1; i >= 0; i-- {
		c := d.cleanups[i]
		if err := c.fn(); err != nil {
			d.n.Say("%s: %v", c.what, err)
			if d.sum.Err == nil {
				d.sum.Err = fmt.Errorf("clean up: %s: %w", c.what, err)
			}
			continue
		}
		d.n.Say("%s", c.what)
	}
}

func (d *demo) run(ctx context.Context) error {
	var err error
	d.root, err = os.MkdirTemp("", "understudy-demo-")
	if err != nil {
		return err
	}
	root := d.root
	d.sum.WorkDir = root
	d.onCleanup("removed "+root, func() error { return os.RemoveAll(root) })

	steps := []func(context.Context) error{
		d.startControlPlane,
		d.startMembers,
		d.applyGroup,
		d.shipLogs,
		d.killPrimary,
		d.bringBackOldPrimary,
		d.switchoverBack,
		d.finalState,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
		if err := context.Cause(ctx); err != nil {
			return err
		}
	}
	return nil
}

// 1. The control plane and the operator.
func (d *demo) startControlPlane(ctx context.Context) error {
	d.n.Step("Local control plane: kube-apiserver + etcd v%s (envtest) with understudy's CRDs", envtestutil.K8sVersion)
	start := time.Now()
	cl, err := startCluster(filepath.Join(d.root, "cluster"))
	if cl != nil {
		d.onCleanup("stopped kube-apiserver and etcd", cl.Stop)
	}
	if err != nil {
		return err
	}
	d.cl = cl
	d.n.Say("kube-apiserver at %s, up in %s; installed CRDs: failovergroups, backuptargets, restoreschedules (understudy.dev), dnsendpoints (externaldns)",
		cl.cfg.Host, secs(time.Since(start)))
	if err := cl.startOperator(namespace); err != nil {
		return err
	}
	d.n.Say("understudy operator running in this process (controllers.SetupWithManager), watching namespace %q; logs: errors only", namespace)

	kubectl := ""
	if d.opts.Kubectl != "off" {
		if p, err := exec.LookPath("kubectl"); err == nil {
			kubectl = p
		}
	}
	if d.tables, err = newTables(cl.cfg, namespace, kubectl, cl.kubeconfig, d.n); err != nil {
		return err
	}
	if kubectl != "" {
		d.n.Say("kubectl found at %s: `kubectl get` below is the real thing (KUBECONFIG=%s)", kubectl, cl.kubeconfig)
	} else {
		d.n.Say("`kubectl get` below is the API server's own Table (Accept: %s), printed as kubectl prints it", tableAccept)
	}
	return nil
}

// 2. Two SQL Server instances and the shared backup directory.
func (d *demo) startMembers(ctx context.Context) error {
	d.n.Step("Two SQL Server instances (mssqlsim, the project's TDS simulator) and a shared backup directory")
	pkiDir := filepath.Join(d.root, "pki")
	if err := os.MkdirAll(pkiDir, 0o700); err != nil {
		return err
	}
	pki, err := mssqlsim.WriteTestPKI(pkiDir, memberHost)
	if err != nil {
		return err
	}
	d.caPEM = pki.CAPEM
	if d.ds1, err = startMember("ds1", "DS1", d.root, pki); err != nil {
		return err
	}
	d.onCleanup("closed ds1", func() error { return d.ds1.Close() })
	if d.ds2, err = startMember("ds2", "DS2", d.root, pki); err != nil {
		return err
	}
	d.onCleanup("closed ds2", func() error { return d.ds2.Close() })
	d.backups = filepath.Join(d.root, "backups")
	if err := os.MkdirAll(d.backups, 0o700); err != nil {
		return err
	}
	if err := d.ds1.createSalesDatabase(ctx); err != nil {
		return err
	}
	d.n.Say("ds1 = %s (data %s): CREATE DATABASE [Sales]; CREATE TABLE dbo.Orders (id INT, note NVARCHAR(100))", d.ds1.addr, d.ds1.dataDir)
	d.n.Say("ds2 = %s (data %s): empty; log shipping will seed it", d.ds2.addr, d.ds2.dataDir)
	d.n.Say("shared backup directory: %s", d.backups)
	d.n.Say("TLS: both encrypt with a certificate for %s signed by a demo CA (%s) and force encryption, "+
		"as mssql-conf network.tlscert/tlskey and network.forceencryption=1 set up SQL Server", memberHost, pki.CAFile)
	return nil
}

// 3. The FailoverGroup, BackupTarget and RestoreSchedule.
func (d *demo) applyGroup(ctx context.Context) error {
	d.n.Step("Apply a SQL Server FailoverGroup with log shipping, a BackupTarget and a RestoreSchedule")
	bt, fg, rs := backupTarget(d.backups), failoverGroup(d.ds1, d.ds2), restoreSchedule()
	d.n.Cmd("kubectl apply -f - <<EOF")
	d.n.Block(manifest(fg.TypeMeta, fg.ObjectMeta, fg.Spec) + "---\n" + manifest(bt.TypeMeta, bt.ObjectMeta, bt.Spec) +
		"---\n" + manifest(rs.TypeMeta, rs.ObjectMeta, rs.Spec) + "EOF")
	d.n.Say("(and a Secret %s with the sa login, a Secret %s with the CA as ca.crt)", secretName, caSecretName)
	applied := time.Now()
	for _, obj := range []client.Object{loginSecret(), caSecret(d.caPEM), bt, fg, rs} {
		if err := d.cl.client.Create(ctx, obj); err != nil {
			return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	err := waitFor(ctx, 60*time.Second, 100*time.Millisecond, "ds1 to be elected and routed", func() (bool, error) {
		g, err := d.group(ctx)
		if err != nil {
			return false, err
		}
		return g.Status.ActiveMember == "ds1" && meta.IsStatusConditionTrue(g.Status.Conditions, v1alpha1.ConditionReady) &&
			maps.Equal(d.selector(ctx), selectorFor("ds1")), nil
	})
	if err != nil {
		return err
	}
	d.n.Say("ds1 elected (highest priority, healthy, Sales ONLINE and writable) and routed %s after apply: Service %s selects %s",
		secs(time.Since(applied)), serviceName, fmtSelector(selectorFor("ds1")))
	d.tables.Get(ctx, "fg", "failovergroups")
	d.n.Say("Degraded 1/2 for now: ds2 has no Sales database yet, so it cannot take over; log shipping seeds it next")
	return nil
}

// 4. The application writes; ds2 is seeded and follows.
func (d *demo) shipLogs(ctx context.Context) error {
	d.n.Step("The application writes to ds1; the operator ships its log to ds2 every %s", logInterval)
	sales1, err := d.ds1.open(databaseName, true)
	if err != nil {
		return err
	}
	d.onCleanup("closed the writer's connections", sales1.Close)
	d.writer1 = startWriter(context.WithoutCancel(ctx), sales1, 1, "order")
	d.onCleanup("stopped the writer", func() error { d.writer1.Stop(); return nil })
	d.n.Say("writer: INSERT INTO dbo.Orders one row every %s on ds1, counting the inserts ds1 acknowledges", writerPace)
	d.n.Say("the operator: full backup, then BACKUP LOG every %s on ds1; RestoreSchedule: seed ds2, then RESTORE LOG ... WITH STANDBY every %s",
		logInterval, restoreInterval)
	start := time.Now()
	var g *v1alpha1.FailoverGroup
	err = waitFor(ctx, 90*time.Second, 200*time.Millisecond, "ds2 to be seeded and log shipping to be healthy", func() (bool, error) {
		var err error
		if g, err = d.group(ctx); err != nil {
			return false, err
		}
		ms := memberStatusOf(g, "ds2")
		return meta.IsStatusConditionTrue(g.Status.Conditions, v1alpha1.ConditionLogShipping) && g.Status.Healthy == "2/2" &&
			ms != nil && ms.Role == v1alpha1.RoleStandby && len(ms.Databases) > 0 && ms.Databases[0].LSN != "" && g.Status.Lag != "", nil
	})
	if err != nil {
		return err
	}
	c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ConditionLogShipping)
	d.n.Say("ds2 seeded, restoring and healthy %s after the writer started; condition LogShipping=%s: %s", secs(time.Since(start)), c.Status, c.Message)
	d.tables.Get(ctx, "fg", "failovergroups")
	d.printMembers(g)
	if n, err := d.readStandby(ctx); err == nil {
		d.n.Say("ds2's Sales is readable (STANDBY): %d rows there, ds1 has acknowledged %d: the difference is the log not shipped or restored yet",
			n, d.writer1.Acked())
	}
	d.tables.Get(ctx, "rsched", "restoreschedules")
	return nil
}

// readStandby counts the rows on the standby with a connection that is closed right after (an
// idle session in the database would hold off the next restore).
func (d *demo) readStandby(ctx context.Context) (int, error) {
	db, err := d.ds2.observer()
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return countOrders(ctx, db)
}

// 5. Kill the primary.
func (d *demo) killPrimary(ctx context.Context) error {
	d.n.Step("Kill the primary ds1 with the writer running")
	// Kill half-way through a log interval, so some acknowledged writes are not shipped yet: the
	// data a real crash would put at risk.
	var lastLog time.Time
	err := waitFor(ctx, 3*logInterval, 100*time.Millisecond, "a fresh log backup", func() (bool, error) {
		t, err := d.lastLogBackup(ctx)
		if err != nil || t.IsZero() {
			return false, err
		}
		lastLog = t
		return time.Since(t) < logInterval/2-time.Second, nil
	})
	if err != nil {
		return err
	}
	killAt := lastLog.Add(logInterval / 2)
	d.n.Say("last log backup of Sales on ds1 finished at %s (BackupTarget status); killing ds1 half a log interval later, at %s",
		lastLog.Format("15:04:05"), killAt.Format("15:04:05"))
	w := d.tables.watch(ctx, groupName, killAt, "T = time since ds1 was killed")
	defer w.Stop()
	if err := pause(ctx, time.Until(killAt)); err != nil {
		return err
	}

	crash := time.Now()
	d.ds1.Crash()
	d.writer1.Stop()
	acked := d.writer1.Acked()
	d.sum.FailoverFrom = "ds1"
	flip := d.timeSelector(ctx, crash, "ds2")
	writable := d.timeWritable(ctx, crash, d.ds2)
	d.n.Say("ds1 killed (the process dies: no more writes, connections cut); the writer had %d inserts acknowledged", acked)

	g, err := d.waitChange(ctx, "Failover", "ds2", 30*time.Second)
	if err != nil {
		return err
	}
	d.sum.FailoverTo = g.Status.LastFailover.To
	sel, werr := flip(), writable()
	w.Settle(ctx, "FAILOVERS", fmt.Sprint(g.Status.FailoverCount))
	w.Stop()
	if sel.err != nil {
		return sel.err
	}
	if werr.err != nil {
		return werr.err
	}
	d.sum.SelectorFlip, d.sum.Writable = sel.d, werr.d

	d.n.Cmd("kubectl events --for failovergroup/%s        # T = time since ds1 was killed", groupName)
	d.printEventsSince(ctx, crash.Add(-time.Second), crash, "FailoverCompleted")

	obs2, err := d.ds2.observer()
	if err != nil {
		return err
	}
	defer obs2.Close()
	rc, err := d.writer1.Check(ctx, obs2)
	if err != nil {
		return err
	}
	d.sum.RowsAcked, d.sum.RowsPresent, d.sum.RowsLost = rc.Acked, rc.Present, rc.Lost
	d.sum.LossBound = d.writer1.AckedIn(crash.Add(-logInterval-lossSlack), crash)
	if lf := g.Status.LastFailover; lf.EstimatedDataLoss != nil {
		d.sum.EstimatedDataLoss = lf.EstimatedDataLoss.Duration
	}
	d.n.Say("measured:")
	d.n.Figure("kill -> Service selects ds2", "%s", secs(d.sum.SelectorFlip))
	d.n.Figure("kill -> INSERT succeeds on ds2", "%s", secs(d.sum.Writable))
	d.n.Figure("rows acknowledged by ds1", "%d (%.0f rows/s)", rc.Acked, d.writer1.Rate())
	d.n.Figure("of those, present on ds2", "%d", rc.Acked-rc.Lost)
	d.n.Figure("lost (acknowledged, not shipped)", "%d = %.1fs of writes", rc.Lost, float64(rc.Lost)/max(d.writer1.Rate(), 1))
	d.n.Figure("bound (acked in one log interval + slack)", "%d (in the %s + %s before the kill)", d.sum.LossBound, logInterval, lossSlack)
	d.n.Figure("operator's estimatedDataLoss", "%s", d.sum.EstimatedDataLoss)
	d.n.Say("the lost rows are not gone for good: they are still in ds1's log; see the salvage backup below")
	return nil
}

// 6. The old primary comes back.
func (d *demo) bringBackOldPrimary(ctx context.Context) error {
	d.n.Step("ds1 comes back: salvage of its unshipped writes, reseed, rejoin as a standby")
	if err := d.ds1.start(ctx); err != nil {
		return err
	}
	back := time.Now()
	d.n.Say("ds1 restarted on %s with its old data (it still has the %d rows ds2 never got)", d.ds1.addr, d.sum.RowsLost)
	w := d.tables.watch(ctx, groupName, back, "T = time since ds1 came back")
	defer w.Stop()
	routedToDS1 := false
	var g *v1alpha1.FailoverGroup
	err := waitFor(ctx, 90*time.Second, 200*time.Millisecond, "ds1 to rejoin as a standby with a salvage backup", func() (bool, error) {
		if maps.Equal(d.selector(ctx), selectorFor("ds1")) {
			routedToDS1 = true
		}
		var err error
		if g, err = d.group(ctx); err != nil {
			return false, err
		}
		ms := memberStatusOf(g, "ds1")
		return ms != nil && ms.Role == v1alpha1.RoleStandby && len(ms.Databases) > 0 && ms.Databases[0].SalvageFile != "", nil
	})
	if err != nil {
		return err
	}
	w.Settle(ctx, "HEALTHY", "2/2")
	w.Stop()
	if routedToDS1 {
		return errors.New("the Service routed to ds1 while it rejoined")
	}
	d.sum.Rejoined = true
	d.sum.SalvageFile = memberStatusOf(g, "ds1").Databases[0].SalvageFile
	d.n.Say("ds1 is a Standby %s after it came back; the Service stayed on ds2 the whole time", secs(time.Since(back)))
	d.n.Cmd("kubectl events --for failovergroup/%s        # T = time since ds1 came back", groupName)
	d.printEventsSince(ctx, back, back, "")
	d.printMembers(g)
	if fi, err := os.Stat(d.sum.SalvageFile); err == nil {
		d.n.Figure("salvage backup (ds1's unshipped log)", "%s (%d bytes)", d.sum.SalvageFile, fi.Size())
	} else {
		d.n.Figure("salvage backup (ds1's unshipped log)", "%s (%v)", d.sum.SalvageFile, err)
	}
	return nil
}

// 7. Planned switchover back to ds1.
func (d *demo) switchoverBack(ctx context.Context) error {
	d.n.Step("Planned switchover back to ds1, with the application writing to ds2")
	sales2, err := d.ds2.open(databaseName, true)
	if err != nil {
		return err
	}
	d.onCleanup("closed the second writer's connections", sales2.Close)
	w2 := startWriter(context.WithoutCancel(ctx), sales2, 1+idSpan, "before switchover")
	d.onCleanup("stopped the second writer", func() error { w2.Stop(); return nil })
	if err := waitFor(ctx, 30*time.Second, 50*time.Millisecond, "writes on ds2", func() (bool, error) { return w2.Acked() >= 100, nil }); err != nil {
		return err
	}
	before, err := d.group(ctx)
	if err != nil {
		return err
	}
	d.n.Say("writer: %d inserts acknowledged by ds2 so far, still writing", w2.Acked())
	requested := time.Now().Add(500 * time.Millisecond)
	w := d.tables.watch(ctx, groupName, requested, "T = time since the switchover was requested")
	defer w.Stop()
	w.Settle(ctx, "NAME", groupName)
	if err := pause(ctx, time.Until(requested)); err != nil {
		return err
	}
	requested = time.Now()
	d.n.Cmd("kubectl annotate fg/%s %s=ds1", groupName, v1alpha1.AnnotationSwitchoverTo)
	patch := client.MergeFrom(before.DeepCopy())
	if before.Annotations == nil {
		before.Annotations = map[string]string{}
	}
	before.Annotations[v1alpha1.AnnotationSwitchoverTo] = "ds1"
	if err := d.cl.client.Patch(ctx, before, patch); err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	d.sum.SwitchoverFrom = "ds2"
	flip := d.timeSelector(ctx, requested, "ds1")
	g, err := d.waitChange(ctx, "Switchover", "ds1", 60*time.Second)
	if err != nil {
		return err
	}
	sel := flip()
	w2.Stop()
	w.Settle(ctx, "FAILOVERS", fmt.Sprint(g.Status.FailoverCount))
	w.Stop()
	if sel.err != nil {
		return sel.err
	}
	d.sum.SwitchoverTo, d.sum.SwitchoverTime = g.Status.LastFailover.To, sel.d
	d.n.Cmd("kubectl events --for failovergroup/%s        # T = time since the switchover was requested", groupName)
	d.printEventsSince(ctx, requested, requested, "SwitchoverCompleted")

	obs1, err := d.ds1.observer()
	if err != nil {
		return err
	}
	defer obs1.Close()
	rc, err := w2.Check(ctx, obs1)
	if err != nil {
		return err
	}
	rc1, err := d.writer1.Check(ctx, obs1)
	if err != nil {
		return err
	}
	d.sum.SwitchoverAcked, d.sum.SwitchoverLost, d.sum.SwitchoverDone = rc.Acked, rc.Lost, true
	d.n.Say("measured:")
	d.n.Figure("request -> Service selects ds1", "%s", secs(d.sum.SwitchoverTime))
	d.n.Figure("rows acknowledged by ds2", "%d (%d failed inserts while ds2 handed over)", rc.Acked, w2.Errors())
	d.n.Figure("of those, present on ds1", "%d", rc.Acked-rc.Lost)
	d.n.Figure("lost", "%d", rc.Lost)
	d.n.Figure("first writer's rows on ds1", "%d (as on ds2 after the failover: %d)", rc1.Present, d.sum.RowsPresent)
	if lf := g.Status.LastFailover; lf.EstimatedDataLoss != nil {
		d.n.Figure("operator's estimatedDataLoss", "%s", lf.EstimatedDataLoss.Duration)
	}
	return nil
}

// 8. The group at the end.
func (d *demo) finalState(ctx context.Context) error {
	d.n.Step("Final state: ds1 active, ds2 its standby (no reseed)")
	var g *v1alpha1.FailoverGroup
	err := waitFor(ctx, 40*time.Second, 200*time.Millisecond, "ds2 to restore ds1's log as a standby", func() (bool, error) {
		var err error
		if g, err = d.group(ctx); err != nil {
			return false, err
		}
		ms, lf := memberStatusOf(g, "ds2"), g.Status.LastFailover
		if g.Status.Healthy != "2/2" || ms == nil || ms.Role != v1alpha1.RoleStandby || len(ms.Databases) == 0 || lf == nil || lf.CompletedAt == nil {
			return false, nil
		}
		t := ms.Databases[0].LastRestoreTime
		return t != nil && t.After(lf.CompletedAt.Time), nil
	})
	switch {
	case err != nil && ctx.Err() != nil:
		return err
	case err != nil:
		d.n.Say("(ds2 has not restored a log of ds1 yet: %v)", err)
	default:
		db := memberStatusOf(g, "ds2").Databases[0]
		d.n.Say("ds2 follows ds1 as a standby, without a reseed: it restored ds1's log backup %s", filepath.Base(db.LastRestoredFile))
	}
	d.tables.Get(ctx, "fg", "failovergroups")
	if g != nil {
		d.printMembers(g)
	}
	return nil
}
