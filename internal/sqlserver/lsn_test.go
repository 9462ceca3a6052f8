package sqlserver

import (
	"encoding/json"
	"math/big"
	"testing"
)

func TestParseLSN(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "0", want: "0"},
		{in: "37000000001600001", want: "37000000001600001"},
		{in: "0000123", want: "123"},
		{in: "9999999999999999999999999", want: "9999999999999999999999999"}, // 25 digits, beyond int64
		{in: "99999999999999999999999999", wantErr: true},                    // 26 digits
		{in: "", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "+1", wantErr: true},
		{in: "1e5", wantErr: true},
		{in: " 1", wantErr: true},
		{in: "12.0", wantErr: true},
		{in: "١٢", wantErr: true}, // non-ASCII digits
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLSN(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseLSN(%q) = %s, want an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLSN(%q): %v", tc.in, err)
			}
			if got.String() != tc.want {
				t.Fatalf("ParseLSN(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestLSNCompare(t *testing.T) {
	var zero LSN
	a := MustParseLSN("37000000001600001")
	b := MustParseLSN("37000000001600002")
	huge := MustParseLSN("9223372036854775808") // int64 max + 1
	tests := []struct {
		name string
		x, y LSN
		want int
	}{
		{"zero equals parsed zero", zero, MustParseLSN("0"), 0},
		{"zero below one", zero, MustParseLSN("1"), -1},
		{"adjacent", a, b, -1},
		{"reverse", b, a, 1},
		{"equal", a, MustParseLSN("037000000001600001"), 0},
		{"beyond int64", huge, MustParseLSN("9223372036854775807"), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.x.Cmp(tc.y); got != tc.want {
				t.Fatalf("Cmp = %d, want %d", got, tc.want)
			}
			if got := tc.x.Less(tc.y); got != (tc.want < 0) {
				t.Fatalf("Less = %v", got)
			}
			if got := tc.x.Equal(tc.y); got != (tc.want == 0) {
				t.Fatalf("Equal = %v", got)
			}
		})
	}
	if !zero.IsZero() || a.IsZero() || zero.String() != "0" {
		t.Fatalf("zero value: IsZero=%v String=%q", zero.IsZero(), zero.String())
	}
	if got := MaxLSN(a, b); !got.Equal(b) {
		t.Fatalf("MaxLSN = %s", got)
	}
	if got := MaxLSN(b, a); !got.Equal(b) {
		t.Fatalf("MaxLSN reversed = %s", got)
	}
}

func TestLSNIsImmutable(t *testing.T) {
	a := MustParseLSN("100")
	a.Big().Add(a.Big(), big.NewInt(1)) // mutating the copy
	v := a.Big()
	v.SetInt64(5)
	if a.String() != "100" {
		t.Fatalf("LSN changed through Big(): %s", a)
	}
	src := big.NewInt(42)
	l, err := LSNFromBig(src)
	if err != nil {
		t.Fatal(err)
	}
	src.SetInt64(7)
	if l.String() != "42" {
		t.Fatalf("LSN changed through its source: %s", l)
	}
	if _, err := LSNFromBig(big.NewInt(-1)); err == nil {
		t.Fatal("negative LSN accepted")
	}
	if l, err := LSNFromBig(nil); err != nil || !l.IsZero() {
		t.Fatalf("LSNFromBig(nil) = %s, %v", l, err)
	}
}

func TestLSNJSON(t *testing.T) {
	type doc struct {
		LSN  LSN  `json:"lsn"`
		Zero LSN  `json:"zero"`
		Ptr  *LSN `json:"ptr,omitempty"`
	}
	in := doc{LSN: MustParseLSN("9999999999999999999999999")}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"lsn":"9999999999999999999999999","zero":"0"}`; string(b) != want {
		t.Fatalf("marshal = %s, want %s", b, want)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !out.LSN.Equal(in.LSN) || !out.Zero.IsZero() {
		t.Fatalf("round trip: %+v", out)
	}
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: `{"lsn":37000000001600001}`, want: "37000000001600001"}, // bare number
		{in: `{"lsn":null}`, want: "0"},
		{in: `{"lsn":"x"}`, wantErr: true},
		{in: `{"lsn":-5}`, wantErr: true},
		{in: `{"lsn":1.5}`, wantErr: true},
		{in: `{"lsn":""}`, wantErr: true},
	}
	for _, tc := range tests {
		var d doc
		err := json.Unmarshal([]byte(tc.in), &d)
		if tc.wantErr {
			if err == nil {
				t.Errorf("unmarshal %s = %s, want an error", tc.in, d.LSN)
			}
			continue
		}
		if err != nil || d.LSN.String() != tc.want {
			t.Errorf("unmarshal %s = %s, %v; want %s", tc.in, d.LSN, err, tc.want)
		}
	}
	// As a map key (TextMarshaler).
	m := map[LSN]int{MustParseLSN("12"): 1}
	if b, err := json.Marshal(m); err != nil || string(b) != `{"12":1}` {
		t.Fatalf("map key: %s, %v", b, err)
	}
}
