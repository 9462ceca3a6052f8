package v1alpha1

import (
	"encoding/json"
	"fmt"
)

// Defence in depth for objects the API server should have refused. A spec that cannot be decoded
// into its Go type (a number where a string belongs, a value out of range for int32, ... written
// before a validation rule existed or straight into etcd) must not fail the decoding of the whole
// informer list, or every object of the kind in every namespace stops being reconciled. Each spec
// decodes on its own: when it fails, the object keeps its raw text (written back unchanged if the
// object is ever written) and DecodeError says why, so the controllers mark that object alone
// InvalidSpec.

// undecodable holds a spec that did not decode.
type undecodable struct {
	raw string
	err string
}

func (u undecodable) error(kind string) error {
	if u.err == "" {
		return nil
	}
	return fmt.Errorf("spec of this %s cannot be read: %s", kind, u.err)
}

// decodeOrKeep decodes b into f; when that fails f is left zero and the raw text is returned.
func decodeOrKeep[F any](b []byte, f *F) undecodable {
	if err := json.Unmarshal(b, f); err != nil {
		var zero F
		*f = zero
		return undecodable{raw: string(b), err: err.Error()}
	}
	return undecodable{}
}

func encodeOrRaw(u undecodable, v any) ([]byte, error) {
	if u.err != "" {
		return []byte(u.raw), nil
	}
	return json.Marshal(v)
}

type failoverGroupSpecFields FailoverGroupSpec

// UnmarshalJSON decodes the spec; a spec that does not fit the Go type is kept raw (DecodeError).
func (s *FailoverGroupSpec) UnmarshalJSON(b []byte) error {
	var f failoverGroupSpecFields
	u := decodeOrKeep(b, &f)
	*s = FailoverGroupSpec(f)
	s.undecodable = u
	return nil
}

// MarshalJSON writes the spec, or the raw text of a spec that did not decode.
func (s FailoverGroupSpec) MarshalJSON() ([]byte, error) {
	return encodeOrRaw(s.undecodable, failoverGroupSpecFields(s))
}

// DecodeError says why the stored spec does not fit the Go type; nil when it does.
func (s *FailoverGroupSpec) DecodeError() error { return s.undecodable.error("FailoverGroup") }

type backupTargetSpecFields BackupTargetSpec

// UnmarshalJSON decodes the spec; a spec that does not fit the Go type is kept raw (DecodeError).
func (s *BackupTargetSpec) UnmarshalJSON(b []byte) error {
	var f backupTargetSpecFields
	u := decodeOrKeep(b, &f)
	*s = BackupTargetSpec(f)
	s.undecodable = u
	return nil
}

// MarshalJSON writes the spec, or the raw text of a spec that did not decode.
func (s BackupTargetSpec) MarshalJSON() ([]byte, error) {
	return encodeOrRaw(s.undecodable, backupTargetSpecFields(s))
}

// DecodeError says why the stored spec does not fit the Go type; nil when it does.
func (s *BackupTargetSpec) DecodeError() error { return s.undecodable.error("BackupTarget") }

type restoreScheduleSpecFields RestoreScheduleSpec

// UnmarshalJSON decodes the spec; a spec that does not fit the Go type is kept raw (DecodeError).
func (s *RestoreScheduleSpec) UnmarshalJSON(b []byte) error {
	var f restoreScheduleSpecFields
	u := decodeOrKeep(b, &f)
	*s = RestoreScheduleSpec(f)
	s.undecodable = u
	return nil
}

// MarshalJSON writes the spec, or the raw text of a spec that did not decode.
func (s RestoreScheduleSpec) MarshalJSON() ([]byte, error) {
	return encodeOrRaw(s.undecodable, restoreScheduleSpecFields(s))
}

// DecodeError says why the stored spec does not fit the Go type; nil when it does.
func (s *RestoreScheduleSpec) DecodeError() error { return s.undecodable.error("RestoreSchedule") }

type failoverGroupStatusFields FailoverGroupStatus

// UnmarshalJSON decodes the status; a status that does not fit the Go type (only the operator writes
// it, but anyone with access to the status subresource could) decodes as empty, and the operator
// writes a new one from what it observes.
func (s *FailoverGroupStatus) UnmarshalJSON(b []byte) error {
	var f failoverGroupStatusFields
	if err := json.Unmarshal(b, &f); err != nil {
		f = failoverGroupStatusFields{}
	}
	*s = FailoverGroupStatus(f)
	return nil
}
