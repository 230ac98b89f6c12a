package store

import (
	"context"
	"time"
)

// Cause kinds: what a store records, in the same transaction as the change
// itself, for the sites whose alert rules watch it (AlertConfig's watch).
const (
	CauseChange    = "change"    // a user's profile or activity changed (ingestion)
	CauseRecording = "recording" // a chunk of a recording was stored
	CauseResponse  = "response"  // a survey response was completed
	CauseFeedback  = "feedback"  // feedback was given
)

// AlertConfig keeps each site's alert destinations and rules: control data,
// one document a site that package notify reads and writes whole.
type AlertConfig interface {
	// AlertConfig returns a site's document, nil when never set.
	AlertConfig(ctx context.Context, site int64) ([]byte, error)
	// SaveAlertConfig replaces it, with the cause kinds its rules need:
	// from then on the store records those causes for the site.
	SaveAlertConfig(ctx context.Context, site int64, config []byte, watch []string) error
}

// AlertCause is a change that may fire alert rules, recorded in the same
// transaction as the change: a crash loses none that was committed.
type AlertCause struct {
	ID      int64
	SiteID  int64
	Kind    string
	Ref     string // the recording, response ("survey/response") or feedback
	UserKey int64  // CauseChange: the user
	At      time.Time
}

// Alert message states.
const (
	AlertPending   = "pending"   // to deliver, at NextAt
	AlertDelivered = "delivered" // a 2xx answer came
	AlertFailed    = "failed"    // given up: still failing after the retry period
	AlertHeld      = "held"      // over its rule's hourly limit: waits for the digest
	AlertDigested  = "digested"  // listed in a digest
)

// AlertMessage is one message of the outbox: an event for a destination.
type AlertMessage struct {
	ID            string // the webhook-id: the same on every attempt
	SiteID        int64
	RuleID        string
	DestinationID string
	Type          string
	Summary       string
	Body          []byte
	Status        string
	Attempts      int
	CreatedAt     time.Time
	NextAt        time.Time
	DoneAt        time.Time
	// Users are the keys of the users whose data the message carries
	// (their IDs, attributes, answers, feedback): a user's deletion
	// deletes the messages that name them, and their delivery log.
	Users []int64
}

// AlertAttempt is one delivery attempt as the log keeps it.
type AlertAttempt struct {
	MessageID     string        `json:"message_id"`
	SiteID        int64         `json:"-"`
	DestinationID string        `json:"destination_id"`
	Attempt       int           `json:"attempt"`
	At            time.Time     `json:"at"`
	Status        int           `json:"status"`
	Error         string        `json:"error,omitempty"`
	Latency       time.Duration `json:"-"`
	Response      string        `json:"response"`
}

// AlertMember says whether a user is now in the segment of an "enters a
// segment" rule.
type AlertMember struct {
	RuleID  string
	UserKey int64
	In      bool
}

// DestinationState is how deliveries to a destination are going.
type DestinationState struct {
	Failures   int       // failed attempts in a row
	DisabledAt time.Time // zero while enabled
	Reason     string
}

// AlertOutbox is the durable queue between causes and deliveries.
type AlertOutbox interface {
	// AlertCauses returns up to limit recorded causes, oldest first.
	AlertCauses(ctx context.Context, limit int) ([]AlertCause, error)
	// ResolveAlerts, in one transaction, deletes the causes, queues the
	// messages and records the membership changes: a cause is either
	// still there or has its messages.
	ResolveAlerts(ctx context.Context, causes []int64, msgs []AlertMessage, members []AlertMember) error
	// AlertMembers tells which of keys a rule saw in its segment.
	AlertMembers(ctx context.Context, rule string, keys []int64) (map[int64]bool, error)
	// ResetAlertMembers replaces the members a rule saw.
	ResetAlertMembers(ctx context.Context, rule string, keys []int64) error
	// CountAlerts counts a rule's messages created at or after since, held
	// ones included.
	CountAlerts(ctx context.Context, rule string, since time.Time) (int, error)
	// HeldAlerts returns held messages created before until.
	HeldAlerts(ctx context.Context, until time.Time) ([]AlertMessage, error)
	// DueAlerts returns up to limit pending messages due at now whose
	// destination is not disabled, oldest first.
	DueAlerts(ctx context.Context, now time.Time, limit int) ([]AlertMessage, error)
	// FinishAttempt logs an attempt and, in the same transaction, stores
	// the message's new status, attempts and next time, and the
	// destination's state.
	FinishAttempt(ctx context.Context, a AlertAttempt, m AlertMessage, d DestinationState) error
	// DestinationState returns a destination's state.
	DestinationState(ctx context.Context, site int64, destination string) (DestinationState, error)
	// EnableDestination clears a destination's failures and disabled mark,
	// and makes its pending messages due at now.
	EnableDestination(ctx context.Context, site int64, destination string, now time.Time) error
	// AlertAttempts lists a site's attempts, newest first; destination ""
	// means every destination.
	AlertAttempts(ctx context.Context, site int64, destination string, limit int) ([]AlertAttempt, error)
	// AlertMessages lists a site's messages, newest first.
	AlertMessages(ctx context.Context, site int64, limit int) ([]AlertMessage, error)
}
