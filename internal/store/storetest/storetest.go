// Package storetest holds the conformance suites of the store's roles: what
// every backend must do, pinned through the role interfaces only, so that
// the embedded DuckDB store and the scaled ones (ClickHouse for analytics,
// PostgreSQL for control data) answer alike. Each backend's tests run the
// suites of the roles it provides:
//
//	func TestSegments(t *testing.T) {
//		storetest.RunSegments(t, func(t *testing.T, now func() time.Time) store.Segments {
//			return openEmpty(t, now)
//		})
//	}
//
// A suite calls its Opener first thing in every subtest, for a fresh, empty
// store; an Opener may call t.Parallel to run the subtests side by side.
// The expectations come from what the API, the dashboard and the README
// promise, not from one backend's accidents: where a test pins behaviour
// that a backend once got wrong, its comment says so.
//
// The suites of the dashboard accounts and of recordings live beside their
// interfaces, in account/accounttest and recording/recordingtest.
package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// Opener returns a new, empty store whose clock is now: every time the
// store stamps by itself (creation, update, revocation and last-use times)
// comes from now, and so may the writer's housekeeping (closing idle
// sessions). Times the caller passes in (message timestamps, the at of a
// recording start) are the caller's.
type Opener[S any] func(t *testing.T, now func() time.Time) S

// T0 is the suites' starting time: a Monday, on a whole second.
var T0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// Clock is a settable clock for a store under test. It starts at T0.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at T0.
func NewClock() *Clock { return &Clock{t: T0} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// ctx is the context of every call the suites make.
var ctx = context.Background()

// check fails the test at once when err is not nil.
func check(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr fails the test unless err wraps target.
func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want one wrapping %v", what, err, target)
	}
}

// sameTime reports whether two times are the same instant, whatever their
// locations: stores return UTC or local times alike.
func sameTime(a, b time.Time) bool { return a.Equal(b) }
