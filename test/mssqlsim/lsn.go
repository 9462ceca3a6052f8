package mssqlsim

import (
	"fmt"
	"strconv"
	"strings"
)

// LSN is a log sequence number. SQL Server exposes LSNs as numeric(25,0)
// values built from three parts: VLF sequence number * 10^15 + log block
// offset * 10^5 + slot number. The simulator keeps the parts and renders the
// decimal value as a string; it never converts an LSN to int64.
type LSN struct {
	VLF   uint32 `json:"vlf"`
	Block uint32 `json:"block"`
	Slot  uint32 `json:"slot"`
}

const (
	lsnBlockDigits = 10
	lsnSlotDigits  = 5
	lsnMaxSlot     = 99999
	lsnMaxBlock    = 999999999
)

// IsZero reports whether l is the zero (unset) LSN.
func (l LSN) IsZero() bool { return l == LSN{} }

// String renders the numeric(25,0) decimal form, e.g. "37000000001600001".
func (l LSN) String() string {
	if l.VLF == 0 {
		if l.Block == 0 {
			return strconv.FormatUint(uint64(l.Slot), 10)
		}
		return fmt.Sprintf("%d%05d", l.Block, l.Slot)
	}
	return fmt.Sprintf("%d%010d%05d", l.VLF, l.Block, l.Slot)
}

// Cmp compares two LSNs.
func (l LSN) Cmp(o LSN) int {
	switch {
	case l.VLF != o.VLF:
		return cmpInt(int64(l.VLF), int64(o.VLF))
	case l.Block != o.Block:
		return cmpInt(int64(l.Block), int64(o.Block))
	default:
		return cmpInt(int64(l.Slot), int64(o.Slot))
	}
}

// nextSlot returns the LSN of the next record in the same log block.
func (l LSN) nextSlot() LSN {
	if l.Slot >= lsnMaxSlot {
		return l.nextBlock()
	}
	l.Slot++
	return l
}

// nextBlock returns the first slot of the next log block; it moves to the
// next VLF when the block offset would overflow its 10 digits.
func (l LSN) nextBlock() LSN {
	if l.Block >= lsnMaxBlock {
		return LSN{VLF: l.VLF + 1, Block: 16, Slot: 1}
	}
	return LSN{VLF: l.VLF, Block: l.Block + 1, Slot: 1}
}

// ParseLSN parses the decimal numeric(25,0) form of an LSN.
func ParseLSN(s string) (LSN, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 25 {
		return LSN{}, fmt.Errorf("invalid LSN %q", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return LSN{}, fmt.Errorf("invalid LSN %q", s)
		}
	}
	pad := strings.Repeat("0", 25-len(s)) + s
	vlf, err1 := strconv.ParseUint(pad[:10], 10, 32)
	block, err2 := strconv.ParseUint(pad[10:20], 10, 32)
	slot, err3 := strconv.ParseUint(pad[20:], 10, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return LSN{}, fmt.Errorf("invalid LSN %q: part out of range", s)
	}
	return LSN{VLF: uint32(vlf), Block: uint32(block), Slot: uint32(slot)}, nil
}
