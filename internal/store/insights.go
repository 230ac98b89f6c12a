package store

import (
	"context"
	"time"
)

// SavedInsight is a named trend, funnel or retention definition.
type SavedInsight struct {
	ID         string `json:"id"`
	SiteID     int64  `json:"-"`
	Name       string `json:"name"`
	Kind       string `json:"kind"` // trend, funnel or retention
	Definition []byte `json:"-"`    // the JSON the insights API takes
	Author     string `json:"author"`
	// Pinned shows the insight's chart and table on the site's overview.
	Pinned    bool      `json:"pinned"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Annotation is a dated note drawn on a site's charts.
type Annotation struct {
	ID     string `json:"id"`
	SiteID int64  `json:"-"`
	Day    string `json:"date"` // YYYY-MM-DD
	Text   string `json:"text"`
	// Source says who wrote it: "dashboard", "api" or "write_key" (a
	// deploy hook).
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
}

// Insights keeps saved insights and annotations.
type Insights interface {
	SaveInsight(ctx context.Context, in SavedInsight) (SavedInsight, error) // creates when in.ID is empty
	Insight(ctx context.Context, site int64, id string) (SavedInsight, error)
	ListInsights(ctx context.Context, site int64) ([]SavedInsight, error)
	DeleteInsight(ctx context.Context, site int64, id string) error

	AddAnnotation(ctx context.Context, a Annotation) (Annotation, error)
	Annotations(ctx context.Context, site int64) ([]Annotation, error)
	DeleteAnnotation(ctx context.Context, site int64, id string) error
}
