package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the whole demo in-process, as `make demo` does, and checks its summary and
// figures. It needs the envtest binaries (KUBEBUILDER_ASSETS or bin/k8s, see
// hack/envtest-assets.sh) and takes about a minute.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the end-to-end demo (about a minute: control plane, operator, two SQL Server simulators) in -short mode")
	}
	quietLogs()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out bytes.Buffer
	w := io.Writer(&out)
	if testing.Verbose() {
		w = io.MultiWriter(&out, os.Stdout)
	}
	start := time.Now()
	sum := Run(ctx, Options{Out: w, Kubectl: "auto"})
	took := time.Since(start)
	if !testing.Verbose() {
		t.Log("\n" + out.String())
	}

	// Exactly one summary line, the last one, and it says what the Summary says.
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	var summaries []string
	for _, l := range lines {
		if strings.HasPrefix(l, "DEMO SUMMARY:") {
			summaries = append(summaries, l)
		}
	}
	if len(summaries) != 1 || lines[len(lines)-1] != summaries[0] {
		t.Fatalf("want exactly one DEMO SUMMARY line, the last; got %q", summaries)
	}
	if summaries[0] != sum.Line() {
		t.Errorf("printed summary %q differs from Summary.Line() %q", summaries[0], sum.Line())
	}
	if !sum.Pass() || !strings.HasSuffix(summaries[0], "; result=PASS") {
		t.Fatalf("demo failed: %s", summaries[0])
	}
	t.Logf("demo took %s: %s", took.Round(time.Second), summaries[0])

	// The figures.
	if sum.FailoverFrom != "ds1" || sum.FailoverTo != "ds2" {
		t.Errorf("failover %s->%s, want ds1->ds2", sum.FailoverFrom, sum.FailoverTo)
	}
	// Failover is bounded by the Lease (3s) plus a few API writes; under -race on a busy machine
	// allow a generous margin.
	for name, d := range map[string]time.Duration{"selector": sum.SelectorFlip, "writable": sum.Writable} {
		if d <= 0 || d > 15*time.Second {
			t.Errorf("kill -> %s took %s, want (0, 15s]", name, d)
		}
	}
	if sum.RowsAcked == 0 || sum.RowsPresent == 0 {
		t.Errorf("rows acked %d present %d: the writer did not write", sum.RowsAcked, sum.RowsPresent)
	}
	if sum.RowsLost < 0 || sum.RowsLost > sum.LossBound {
		t.Errorf("lost %d rows, bound %d (one log interval + slack)", sum.RowsLost, sum.LossBound)
	}
	if sum.RowsPresent+sum.RowsLost < sum.RowsAcked {
		t.Errorf("present %d + lost %d < acked %d", sum.RowsPresent, sum.RowsLost, sum.RowsAcked)
	}
	if !sum.Rejoined || !strings.Contains(sum.SalvageFile, string(filepath.Separator)+"salvage"+string(filepath.Separator)) {
		t.Errorf("rejoined=%t salvage file %q", sum.Rejoined, sum.SalvageFile)
	}
	if !sum.SwitchoverDone || sum.SwitchoverFrom != "ds2" || sum.SwitchoverTo != "ds1" || sum.SwitchoverLost != 0 || sum.SwitchoverAcked == 0 {
		t.Errorf("switchover %s->%s done=%t acked %d lost %d", sum.SwitchoverFrom, sum.SwitchoverTo, sum.SwitchoverDone,
			sum.SwitchoverAcked, sum.SwitchoverLost)
	}

	// Nothing is left behind: the run's directory is gone.
	if sum.WorkDir == "" {
		t.Error("the summary does not name the run's directory")
	} else if _, err := os.Stat(sum.WorkDir); !os.IsNotExist(err) {
		t.Errorf("%s is still there after the demo (stat: %v)", sum.WorkDir, err)
	}
}
