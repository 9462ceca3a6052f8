package logshipping

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/sqlserver"
)

// A DBA's BACKUP LOG ... TO DISK without INIT, pointed at one of the
// group's log files, appends backup sets to it. Every set is catalogued
// with its position and restored WITH FILE = n, so a new standby is seeded
// and follows the chain through the file (before, only the last set was
// catalogued and the file was restored without FILE = n: a gap, and the
// standby fell to NeedsFullBackup).
func TestMultiSetBackupFileEndToEnd(t *testing.T) {
	for _, view := range []struct {
		name  string
		local bool
	}{{"directory", true}, {"msdb history", false}} {
		for _, sets := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s, %d sets", view.name, sets), func(t *testing.T) {
				primary, standby := startMember(t, "PRIMARY"), startMember(t, "STANDBY")
				g := newGroupSeeing(t, view.local)
				dbs := []string{"sales"}
				createDB(t, primary, "sales")
				insert(t, primary, "sales", 1)
				taken := g.backup(t, primary, dbs, nil)
				var shared string
				for _, r := range taken {
					if r.Type == sqlserver.BackupLog {
						shared = r.Path
					}
				}
				if shared == "" {
					t.Fatalf("no log backup taken: %+v", taken)
				}
				dba := primary.app(t, "")
				for range sets - 1 {
					insert(t, primary, "sales", 2)
					mustExec(t, dba, "BACKUP LOG [sales] TO DISK = @p1", shared) // NOINIT: appended
				}
				insert(t, primary, "sales", 1)
				g.backup(t, primary, dbs, nil) // continues after the DBA's sets

				files := g.files(t, primary, dbs)
				var catalogued []string
				for _, f := range files["sales"] {
					if f.Path == shared {
						catalogued = append(catalogued, f.String())
					}
				}
				if len(catalogued) != sets {
					t.Fatalf("catalogued sets of %s: %v, want %d", shared, catalogued, sets)
				}

				for run := range 2 {
					r := g.restore(t, primary, standby, dbs, RestoreSettings{}, time.Now())[0]
					if r.NeedsFullBackup || r.Err != nil || r.SkippedAlreadyApplied != 0 {
						t.Fatalf("run %d: %+v", run+1, r)
					}
					if run == 0 {
						for n := 2; n <= sets; n++ {
							if name := fmt.Sprintf("%s (FILE = %d)", shared, n); !slices.Contains(r.Applied, name) {
								t.Fatalf("set %d was not restored: applied %v", n, r.Applied)
							}
						}
					} else if len(r.Applied) != 0 {
						t.Fatalf("run 2 applied %v again", r.Applied)
					}
				}
				if err := standby.client.Recover(testContext(t), "sales"); err != nil {
					t.Fatal(err)
				}
				if got, want := count(t, standby, "sales"), count(t, primary, "sales"); got != want {
					t.Fatalf("standby has %d rows, primary %d", got, want)
				}
			})
		}
	}
}
