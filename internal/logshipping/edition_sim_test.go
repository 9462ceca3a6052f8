package logshipping

import (
	"testing"
	"time"

	"github.com/understudy-dev/understudy/test/mssqlsim"
)

// TestCompressionFollowsTheEdition: the target asks for compression (the default). On Express and
// Web, which answer WITH COMPRESSION with error 1844, backups (full, log and tail-log) are taken
// without it and still ship; on Developer they are compressed. CompressionOn says which.
func TestCompressionFollowsTheEdition(t *testing.T) {
	cases := []struct {
		edition  string
		compress bool
	}{
		{"Express", false},
		{"Web", false},
		{"Developer", true},
		{"Standard", true},
	}
	for _, tc := range cases {
		t.Run(tc.edition, func(t *testing.T) {
			ctx := testContext(t)
			primary := startMemberWith(t, "P", mssqlsim.Options{Edition: tc.edition})
			standby := startMemberWith(t, "S", mssqlsim.Options{Edition: tc.edition})
			g := newGroup(t)
			comp, err := g.shipper.CompressionOn(ctx, primary.client)
			if err != nil {
				t.Fatal(err)
			}
			if !comp.Requested || comp.Applied() != tc.compress {
				t.Fatalf("CompressionOn = %+v (applied %t), want requested and applied %t", comp, comp.Applied(), tc.compress)
			}
			createDB(t, primary, "shop")
			insert(t, primary, "shop", 3)
			res := g.backup(t, primary, []string{"shop"}, nil)
			if len(res) == 0 {
				t.Fatal("no backup taken")
			}
			for _, r := range res {
				headers, err := primary.client.ReadHeader(ctx, r.Path)
				if err != nil {
					t.Fatal(err)
				}
				if headers[0].Compressed != tc.compress {
					t.Fatalf("%s backup %s: compressed %t, want %t", r.Type, r.Path, headers[0].Compressed, tc.compress)
				}
			}
			g.restore(t, primary, standby, []string{"shop"}, standbySettings(t.TempDir()), time.Now())
			if got, want := count(t, standby, "shop"), count(t, primary, "shop"); got != want {
				t.Fatalf("standby has %d rows, primary %d", got, want)
			}
			// A planned switchover's tail-log backup takes the same options.
			if _, err := g.shipper.PlannedSwitchover(ctx, primary.client, standby.client, []string{"shop"}, time.Now()); err != nil {
				t.Fatalf("switchover: %v", err)
			}
			if st := state(t, standby, "shop"); !st.Writable() {
				t.Fatalf("after the switchover the new primary's database is %s, want writable", st.Describe())
			}
		})
	}
}
