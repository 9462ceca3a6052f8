package v1alpha1

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
)

// Semantic equality (equality.Semantic, which controllers use to skip writes that change nothing)
// cannot look into the unexported text of a Duration and panics; two Durations are equal when they
// are written the same.
func init() {
	if err := equality.Semantic.AddFunc(func(a, b Duration) bool { return a.String() == b.String() }); err != nil {
		panic(err)
	}
}

// Duration is a Go duration string ("90s", "1h30m"), like metav1.Duration, with one difference that
// matters to an operator: decoding never fails. metav1.Duration returns an error for a value that
// time.ParseDuration refuses, and one such object makes the typed informer's whole list fail to
// decode, so no object of the kind in any namespace is reconciled. The API server refuses such
// values (the schema pattern and CEL rules on every field), but an object stored before those rules
// or written around them must stay one object's problem: its text is kept as written (and written
// back unchanged), Err reports it, and the controllers mark that object alone InvalidSpec.
//
// On the wire: numbers of at most 5 digits (a fraction of up to 9), each with a unit ns, us, ms, s,
// m or h, at most 24 characters; the pattern is what keeps every CEL duration() call on a stored
// value from failing (no overflow), so the bound rules are written "not a duration, or in bounds"
// and an invalid value stored before the rules existed is refused only by the (ratcheted) pattern:
// the operator can still write such an object's status.
// +kubebuilder:validation:Type=string
// +kubebuilder:validation:MaxLength=24
// +kubebuilder:validation:Pattern=`^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$`
type Duration struct {
	// Duration is the parsed value; zero when the text is not a valid duration (see Err).
	Duration time.Duration `json:"-"`

	// invalid is the stored text when it is not a valid Go duration (or not a JSON string at all).
	invalid string
}

// NewDuration returns d as a Duration.
func NewDuration(d time.Duration) Duration { return Duration{Duration: d} }

// DurationPtr returns a pointer to d as a Duration.
func DurationPtr(d time.Duration) *Duration { v := NewDuration(d); return &v }

// durationRange is the largest duration any field accepts (10 years): far inside time.Duration's
// range (about 292 years), so a bound check never overflows.
const durationRange = 10 * 365 * 24 * time.Hour

// UnmarshalJSON accepts any JSON value: a valid duration string sets Duration, anything else is kept
// for Err and MarshalJSON.
func (d *Duration) UnmarshalJSON(b []byte) error {
	*d = Duration{}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		d.invalid = string(b)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v > durationRange || v < -durationRange {
		d.invalid = s
		if s == "" {
			d.invalid = `""`
		}
		return nil
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes a valid duration in Go's format and an invalid one exactly as it was read, so
// an object written back by the operator loses nothing.
func (d Duration) MarshalJSON() ([]byte, error) {
	if d.invalid != "" {
		return json.Marshal(d.invalid)
	}
	return json.Marshal(d.wire())
}

// wire is the duration in Go's format with "us" for "µs", so it matches the schema's pattern.
func (d Duration) wire() string {
	return strings.Replace(d.Duration.String(), "µs", "us", 1)
}

// Err says why the stored text is not a usable duration; nil when it is.
func (d Duration) Err() error {
	if d.invalid == "" {
		return nil
	}
	return fmt.Errorf("%q is not a duration such as 90s, 5m or 1h30m (units ns, us, ms, s, m, h; at most %s)", d.invalid, durationRange)
}

// String is the duration in Go's format, or the invalid text as stored.
func (d Duration) String() string {
	if d.invalid != "" {
		return d.invalid
	}
	return d.wire()
}

// ToUnstructured lets the apimachinery unstructured converter (server-side apply, fake clients)
// see a Duration as the string it is on the wire.
func (d Duration) ToUnstructured() any { return d.String() }
