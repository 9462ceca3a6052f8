package sqlserver

import "strings"

// redactedPlaceholder replaces a secret found in an error text.
const redactedPlaceholder = "<redacted>"

// redactedError is an error whose text had a secret removed. It unwraps to
// the original error so errors.As and Classify keep working.
type redactedError struct {
	err  error
	text string
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// redactSecret returns err unchanged when its text does not contain
// secret, and otherwise an error whose text has every occurrence of secret
// replaced. It is defence in depth: the password is never put into a
// connection string, but a driver or server message could still echo it.
func redactSecret(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	text := err.Error()
	if !strings.Contains(text, secret) {
		return err
	}
	return &redactedError{err: err, text: strings.ReplaceAll(text, secret, redactedPlaceholder)}
}
