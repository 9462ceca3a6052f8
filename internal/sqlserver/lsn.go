package sqlserver

import (
	"encoding/json"
	"fmt"
	"math/big"
)

// maxLSNDigits is the precision of SQL Server's numeric(25,0) LSN columns.
const maxLSNDigits = 25

// LSN is a SQL Server log sequence number as exposed by msdb, sys.* views and
// RESTORE HEADERONLY: a non-negative numeric(25,0) value. It is kept as a
// math/big integer (it does not fit in int64) and rendered as a decimal
// string. The zero value is LSN 0, which SQL Server uses for "none" (e.g.
// DatabaseBackupLSN of the first full backup).
type LSN struct {
	v *big.Int // nil means 0; never mutated after construction
}

// ParseLSN parses a decimal LSN such as "37000000001600001". Only ASCII
// digits are accepted (no sign, no spaces), at most 25 of them.
func ParseLSN(s string) (LSN, error) {
	if s == "" {
		return LSN{}, fmt.Errorf("parse LSN: empty string")
	}
	if len(s) > maxLSNDigits {
		return LSN{}, fmt.Errorf("parse LSN %q: more than %d digits", s, maxLSNDigits)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return LSN{}, fmt.Errorf("parse LSN %q: not a decimal number", s)
		}
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return LSN{}, fmt.Errorf("parse LSN %q: not a decimal number", s)
	}
	return LSN{v: v}, nil
}

// MustParseLSN is ParseLSN for constants in tests and examples; it panics on
// a malformed value.
func MustParseLSN(s string) LSN {
	l, err := ParseLSN(s)
	if err != nil {
		panic(err)
	}
	return l
}

// LSNFromBig returns the LSN with value v (copied). It fails for negative
// values and values wider than numeric(25,0).
func LSNFromBig(v *big.Int) (LSN, error) {
	if v == nil {
		return LSN{}, nil
	}
	if v.Sign() < 0 {
		return LSN{}, fmt.Errorf("LSN %s: negative", v)
	}
	return ParseLSN(v.String())
}

// Big returns a copy of the value as a big.Int.
func (l LSN) Big() *big.Int {
	if l.v == nil {
		return new(big.Int)
	}
	return new(big.Int).Set(l.v)
}

// String renders the decimal form, "0" for the zero LSN.
func (l LSN) String() string {
	if l.v == nil {
		return "0"
	}
	return l.v.String()
}

// IsZero reports whether l is 0 (unset).
func (l LSN) IsZero() bool { return l.v == nil || l.v.Sign() == 0 }

// Cmp returns -1, 0 or +1 when l is less than, equal to or greater than o.
func (l LSN) Cmp(o LSN) int {
	return l.Big().Cmp(o.Big())
}

// Less reports whether l < o.
func (l LSN) Less(o LSN) bool { return l.Cmp(o) < 0 }

// Equal reports whether l == o.
func (l LSN) Equal(o LSN) bool { return l.Cmp(o) == 0 }

// MarshalText renders the decimal form (used by JSON map keys and
// encoding.TextMarshaler consumers).
func (l LSN) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText parses the decimal form.
func (l *LSN) UnmarshalText(b []byte) error {
	v, err := ParseLSN(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// MarshalJSON renders the LSN as a JSON string ("37000000001600001") so that
// JavaScript and YAML consumers never round it through a float.
func (l LSN) MarshalJSON() ([]byte, error) { return json.Marshal(l.String()) }

// UnmarshalJSON accepts a JSON string or a bare JSON number of digits.
func (l *LSN) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // like encoding/json for other types: null leaves the value unchanged
	}
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("parse LSN: %w", err)
		}
	} else {
		s = string(b)
	}
	return l.UnmarshalText([]byte(s))
}

// MaxLSN returns the larger of a and b.
func MaxLSN(a, b LSN) LSN {
	if a.Less(b) {
		return b
	}
	return a
}
