package store

import (
	"context"
	"fmt"
	"time"
)

// Retention is how long a site keeps each kind of data, in days; 0 keeps
// it for good (the default). Recordings have their own retention
// (RecordingSettings).
type Retention struct {
	EventsDays   int `json:"events_days"`
	SessionsDays int `json:"sessions_days"`
	// HistoryDays bounds attribute history; current values stay.
	HistoryDays int `json:"attribute_history_days"`
	// SurveysDays bounds survey responses and their answers.
	SurveysDays int `json:"survey_answers_days"`
}

// MaxRetentionDays is the longest retention that can be set (100 years).
const MaxRetentionDays = 36500

// Validate returns a FieldError for a value out of range.
func (r Retention) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"events_days", r.EventsDays}, {"sessions_days", r.SessionsDays},
		{"attribute_history_days", r.HistoryDays}, {"survey_answers_days", r.SurveysDays}} {
		if f.v < 0 || f.v > MaxRetentionDays {
			return &FieldError{Code: "invalid_retention", Field: f.name,
				Msg: fmt.Sprintf("%s is a number of days from 1 to %d, or 0 to keep the data for good", f.name, MaxRetentionDays)}
		}
	}
	return nil
}

// Retainer keeps each site's retention and deletes what is past it.
type Retainer interface {
	Retention(ctx context.Context, site int64) (Retention, error)
	SetRetention(ctx context.Context, site int64, r Retention) (Retention, error)
	// ExpireData deletes, for every site, the data older than its
	// retention as of now, and returns how many rows of each kind went.
	// Dependent rows go first (a survey's answers before its response,
	// events before their sessions), each kind in its own transaction, so
	// that a crash leaves nothing pointing at a deleted row and the next
	// run finishes the work.
	ExpireData(ctx context.Context, now time.Time) (map[string]int64, error)
}
