package sqlserver

import "testing"

func TestIsStandby(t *testing.T) {
	tests := []struct {
		name string
		st   DatabaseState
		want bool
	}{
		{"restoring (NORECOVERY)", DatabaseState{Exists: true, State: StateRestoring}, true},
		{"online in standby", DatabaseState{Exists: true, State: StateOnline, IsInStandby: true, IsReadOnly: true}, true},
		{"online in standby, read_only flag not reported", DatabaseState{Exists: true, State: StateOnline, IsInStandby: true}, true},
		{"online read-write (recovered)", DatabaseState{Exists: true, State: StateOnline}, false},
		{"online read-only, not standby", DatabaseState{Exists: true, State: StateOnline, IsReadOnly: true}, false},
		{"recovering", DatabaseState{Exists: true, State: StateRecovering}, false},
		{"offline", DatabaseState{Exists: true, State: StateOffline}, false},
		{"suspect", DatabaseState{Exists: true, State: StateSuspect}, false},
		{"missing", DatabaseState{Name: "shop"}, false},
		{"missing with a stale state", DatabaseState{State: StateRestoring}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsStandby(tc.st); got != tc.want {
				t.Errorf("IsStandby(%+v) = %v, want %v", tc.st, got, tc.want)
			}
			// A state written down as its description (status) means the same.
			if got := IsStandby(ParseDescribed(tc.st.Describe())); got != tc.want {
				t.Errorf("IsStandby(ParseDescribed(%q)) = %v, want %v", tc.st.Describe(), got, tc.want)
			}
			if ok, _ := RoleStandby.expectation(tc.st); ok != tc.want {
				t.Errorf("RoleStandby accepts %+v: %v, want %v", tc.st, ok, tc.want)
			}
			if ok, _ := RoleStandbyOrPromoted.expectation(tc.st); ok != (tc.want || tc.st.Writable()) {
				t.Errorf("RoleStandbyOrPromoted accepts %+v: %v", tc.st, ok)
			}
		})
	}
}

func TestParseDescribedRoundTrip(t *testing.T) {
	for _, st := range []DatabaseState{
		{},
		{Exists: true, State: StateOnline},
		{Exists: true, State: StateOnline, IsInStandby: true, IsReadOnly: true},
		{Exists: true, State: StateOnline, IsReadOnly: true},
		{Exists: true, State: StateRestoring},
		{Exists: true, State: StateRecovering},
		{Exists: true, State: StateOffline},
		{Exists: true, State: StateSuspect},
	} {
		got := ParseDescribed(st.Describe())
		if got != st {
			t.Errorf("ParseDescribed(%q) = %+v, want %+v", st.Describe(), got, st)
		}
	}
	if RoleStandbyOrPromoted.String() != "StandbyOrPromoted" {
		t.Errorf("String = %q", RoleStandbyOrPromoted.String())
	}
}
