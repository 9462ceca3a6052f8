package mssqlsim

import "testing"

func TestLSNFormatAndParse(t *testing.T) {
	tests := []struct {
		lsn  LSN
		text string
	}{
		{LSN{VLF: 37, Block: 16, Slot: 1}, "37000000001600001"},
		{LSN{VLF: 4294967295, Block: 999999999, Slot: 99999}, "4294967295099999999999999"},
		{LSN{Block: 12, Slot: 3}, "1200003"},
		{LSN{Slot: 7}, "7"},
	}
	for _, tc := range tests {
		if got := tc.lsn.String(); got != tc.text {
			t.Errorf("%+v.String() = %s, want %s", tc.lsn, got, tc.text)
		}
		back, err := ParseLSN(tc.text)
		if err != nil || back != tc.lsn {
			t.Errorf("ParseLSN(%s) = %+v, %v", tc.text, back, err)
		}
	}
	for _, bad := range []string{"", "abc", "-1", "12345678901234567890123456", "9999999999000000000000000"} {
		if _, err := ParseLSN(bad); err == nil {
			t.Errorf("ParseLSN(%q) succeeded", bad)
		}
	}
}

func TestLSNOrdering(t *testing.T) {
	a := LSN{VLF: 37, Block: 16, Slot: 1}
	b := a.nextSlot()
	c := b.nextBlock()
	d := LSN{VLF: 37, Block: lsnMaxBlock, Slot: 5}.nextBlock()
	if !(a.Cmp(b) < 0 && b.Cmp(c) < 0 && c.Cmp(d) < 0 && d.Cmp(a) > 0 && a.Cmp(a) == 0) {
		t.Fatalf("ordering broken: %s %s %s %s", a, b, c, d)
	}
	if d.VLF != 38 {
		t.Fatalf("block overflow must move to the next VLF, got %+v", d)
	}
}
