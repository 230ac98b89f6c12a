package store

import (
	"context"
	"time"
)

// SavedExperiment is an experiment (A/B test) of a site. Definition is
// the canonical JSON of experiment.Definition, which reads it.
type SavedExperiment struct {
	ID         string
	SiteID     int64
	Name       string
	Definition []byte
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Experiments keeps experiments.
type Experiments interface {
	// SaveExperiment creates the experiment when e.ID is empty, else
	// replaces it (ErrNotFound when there is none).
	SaveExperiment(ctx context.Context, e SavedExperiment) (SavedExperiment, error)
	Experiment(ctx context.Context, site int64, id string) (SavedExperiment, error)
	ListExperiments(ctx context.Context, site int64) ([]SavedExperiment, error)
	DeleteExperiment(ctx context.Context, site int64, id string) error
}
