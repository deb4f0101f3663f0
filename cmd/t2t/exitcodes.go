package main

import (
	"context"
	"errors"
	"fmt"

	"t2t/shared/state"
	"t2t/shared/storageconn"
)

// Exit codes scripts can rely on. They are part of the CLI's contract: documented in `t2t --help`
// and in the README, and never renumbered.
const (
	exitOK           = 0   // the command did what it was asked
	exitFailed       = 1   // something went wrong (storage unreachable, unreadable file, ...)
	exitUsage        = 2   // bad command line: unknown command or flag, missing or bad argument
	exitFailures     = 3   // watch: the wave finished with failures or was rejected; validate: rows rejected; cutover: users failed; domain: refused
	exitNotFound     = 4   // no such wave, report or document
	exitNotAvailable = 5   // not available yet: the wave has no report yet
	exitTimeout      = 6   // watch --timeout ran out before the wave finished
	exitAuth         = 7   // storage refused the credential, or no credential could get a token
	exitInterrupted  = 130 // Ctrl-C (SIGINT) or SIGTERM
)

// exitCodesHelp is the table printed by `t2t --help` (and copied in the README's CLI section).
const exitCodesHelp = `Exit codes:
  0    success
  1    error (storage unreachable, unreadable file, ...)
  2    usage error (unknown command or flag, missing or bad argument)
  3    the wave finished with failures or was rejected (watch); rows were rejected (validate);
       users failed (cutover); the step was refused (domain)
  4    not found: no such wave, report or document
  5    not available yet: the wave has no report yet
  6    watch, cutover or domain --timeout ran out before the wave (or the step) finished
  7    storage refused the credential, or no credential could get a token
  130  interrupted (Ctrl-C)`

// exitError carries the exit code a failure maps to.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &codedError{code: code, err: err} }

func usageErrorf(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

// codeOf maps an error to its exit code: an explicit one first, then what the error chain says.
func codeOf(err error) int {
	var ee *codedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, context.DeadlineExceeded):
		return exitTimeout
	case storageconn.IsAuthError(err):
		return exitAuth
	case errors.Is(err, state.ErrNotFound):
		return exitNotFound
	}
	return exitFailed
}
