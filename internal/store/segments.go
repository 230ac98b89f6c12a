package store

import (
	"context"
	"time"
)

// SavedSegment is a segment saved under a name. Definition is the condition
// tree's canonical JSON; Text its canonical text form.
type SavedSegment struct {
	ID          string    `json:"id"`
	SiteID      int64     `json:"-"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Author      string    `json:"author"`
	Definition  []byte    `json:"-"`
	Text        string    `json:"text"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Member is one member of a segment with a few of its attributes.
type Member struct {
	Key        int64
	UserID     string
	Attributes []AttrState
}

// Segments keeps saved segments.
type Segments interface {
	SaveSegment(ctx context.Context, s SavedSegment) (SavedSegment, error) // creates when s.ID is empty
	Segment(ctx context.Context, siteID int64, id string) (SavedSegment, error)
	ListSegments(ctx context.Context, siteID int64) ([]SavedSegment, error)
	DeleteSegment(ctx context.Context, siteID int64, id string) error
}
