package sqlcmd

import (
	"reflect"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"LOGIN": "understudy", "SID": "0x01", "EMPTY": ""}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	for _, tc := range []struct {
		in, want string
		fails    bool
	}{
		{"CREATE LOGIN [$(LOGIN)] WITH SID = $(SID)", "CREATE LOGIN [understudy] WITH SID = 0x01", false},
		{"$(LOGIN)$(LOGIN)", "understudyunderstudy", false},
		{"N'$(EMPTY)'", "N''", false},
		{"no variables, $ and $( alone", "no variables, $ and $( alone", false},
		{"$(MISSING) and $(LOGIN)", "", true},
	} {
		got, err := Expand(tc.in, lookup)
		if (err != nil) != tc.fails || got != tc.want {
			t.Errorf("Expand(%q) = %q, %v; want %q, error %t", tc.in, got, err, tc.want, tc.fails)
		}
	}
}

func TestBatches(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"SELECT 1", []string{"SELECT 1"}},
		{"USE master;\nGO\nSELECT 1\n  go  \n\nGO\nSELECT 2\r\nGO\r\n", []string{"USE master;", "SELECT 1", "SELECT 2"}},
		{"SELECT 'GO'\nGOTO x", []string{"SELECT 'GO'\nGOTO x"}},
		{"GO\n\n", nil},
	} {
		if got := Batches(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Batches(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
