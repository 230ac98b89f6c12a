package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sightline/sightline/internal/experiment"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// OnboardingExperiment is Ledgerly's onboarding A/B test, as the demo
// saves it for a window ending at now: the variant is the ab_variant
// attribute of the users who signed up in the last 60 days (the
// generator gives variant B a real lift in completing onboarding), and
// its goals are completing onboarding, which B moves, and sending an
// invoice, which it does not.
func OnboardingExperiment(now time.Time) experiment.Definition {
	return experiment.Definition{
		Name: "Onboarding v2",
		Description: "The guide's A/B test of the onboarding sequence (step 5): variant B's shorter set-up against " +
			"the current one (A). Does it complete more often, without changing what users do after?",
		Source:    experiment.Source{Kind: "attribute", Attribute: "ab_variant"},
		Variants:  []experiment.Variant{{Name: "A", Weight: 1}, {Name: "B", Weight: 1}},
		Control:   "A",
		Start:     now.UTC().Add(-60 * 24 * time.Hour).Truncate(24 * time.Hour),
		Goals:     []experiment.Goal{{Kind: "event", Event: "Onboarding Completed"}, {Kind: "event", Event: "Invoice Sent"}},
		Breakdown: []string{`plan = "trial"`},
	}
}

// saveExperiments saves Ledgerly's experiments.
func saveExperiments(ctx context.Context, db *duckstore.DB, site int64, now time.Time) error {
	d := OnboardingExperiment(now)
	if err := d.Normalize(); err != nil {
		return fmt.Errorf("BUG: the demo's experiment: %w", err)
	}
	body, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if _, err := db.SaveExperiment(ctx, store.SavedExperiment{SiteID: site, Name: d.Name, Definition: body}); err != nil {
		return fmt.Errorf("save the demo's experiment: %w", err)
	}
	return nil
}
