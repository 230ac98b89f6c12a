package demo

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/internal/segment"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/store"
)

// The saved segments of the demo: those the segmentation guide the
// product started from names (docs/segments.md, "Worked examples"), written
// over the events and attributes the generator makes, so that the segments
// list, NPS by segment and the recordings' segment filter open populated.

// DefaultAuthor signs the demo's segments when no account is named.
const DefaultAuthor = "Sightline demo"

// segmentSpec is a segment to save. When ref is set, text is a format with
// one %q for the ID of the earlier segment named ref.
type segmentSpec struct {
	name, description, text, ref string
}

// SegmentSize is a saved segment of the demo and its size when saved.
type SegmentSize struct {
	ID, Name string
	Size     int64
}

// saasSegments are Ledgerly's segments; npsSurvey is the NPS survey's ID.
func saasSegments(npsSurvey string) []segmentSpec {
	return []segmentSpec{
		{name: "Power users",
			description: "The guide's power users (step 3, \"Define your user groups\"): active at least four days of the last " +
				"seven, a session of three hours or more in that week, a core feature (Export) in the last 30 days, " +
				"on the top plan (enterprise).",
			text: `active_days(7d) >= 4 and session_duration(7d) >= 3h and did("Export", 30d) and plan = "enterprise"`},
		{name: "Non-power users", ref: "Power users",
			description: "Everyone else: the identified users who are not power users, the group the guide compares them " +
				"with (step 4), where most never completed onboarding. identified() keeps anonymous visitors out.",
			text: `not in_segment(%q) and identified()`},
		{name: "Rage-clickers",
			description: "Users who rage-clicked in the last 30 days (the tracker's $rage_click): the guide's undesired " +
				"actions, whose recordings show what went wrong. Here the invoice editor's slow Send button draws most.",
			text: `rage_clicks(30d)`},
		{name: "NPS detractors",
			description: "Users whose latest answer to the Ledgerly NPS survey was 0 to 6: the guide's users by NPS, " +
				"whose journeys show what frustrates them.",
			text: fmt.Sprintf(`nps_group(%q) = "detractor"`, npsSurvey)},
		{name: "Trial users who became paid",
			description: "Users whose plan went from trial to pro or enterprise in the last 90 days: the guide's " +
				"comparison of trials who converted with trials who churned.",
			text: `plan changed from "trial" to "pro" within 90d or plan changed from "trial" to "enterprise" within 90d`},
		{name: "Trial users who churned",
			description: "Users whose trial ended in the last 90 days without paying: the plan went from trial to " +
				"churned, or was removed. The other side of the guide's trial comparison.",
			text: `plan changed from "trial" to "churned" within 90d or plan changed from "trial" within 90d and plan is not set`},
		{name: "High-LTV customers",
			description: "Customers who have paid $1,000 or more (ltv): the guide's high lifetime value customers, " +
				"to keep happy and ask for feedback.",
			text: `ltv >= 1000`},
		{name: "Low-LTV customers",
			description: "Customers who have paid something but less than $100 (ltv): the guide's low lifetime value " +
				"customers, whose journeys show what they have not understood.",
			text: `ltv > 0 and ltv < 100`},
		{name: "Onboarding test: variant A",
			description: "Users who signed up in the last 60 days and saw onboarding A (ab_variant): the guide's A/B " +
				"test of the onboarding sequence (step 5). Compare onboarding_completed with variant B.",
			text: `ab_variant = "A"`},
		{name: "Onboarding test: variant B",
			description: "Users who signed up in the last 60 days and saw onboarding B (ab_variant), which completes " +
				"more often: the guide's A/B test of the onboarding sequence (step 5).",
			text: `ab_variant = "B"`},
	}
}

// shopSegments are Fernhill's segments.
func shopSegments() []segmentSpec {
	return []segmentSpec{
		{name: "Cart abandoners",
			description: "Visitors who added a product to the cart in the last 30 days and ordered nothing: the " +
				"guide's shopping carts abandoned, whose recordings show why.",
			text: `did("Product Added", 30d) and not did("Order Completed", 30d)`},
		{name: "Checkout abandoners",
			description: "Visitors who started the checkout in the last 30 days and ordered nothing: the guide's " +
				"visitors who abandoned at the checkout. Compare with Buyers.",
			text: `did("Checkout Started", 30d) and not did("Order Completed", 30d)`},
		{name: "Buyers",
			description: "Customers who completed an order in the last 30 days: the guide's visitors who made " +
				"purchases, to compare with those who abandoned at the checkout.",
			text: `did("Order Completed", 30d)`},
		{name: "VIPs",
			description: "Customers who have spent $750 or more (vip): the guide's high-value customers, whose " +
				"clicks show which products to promote.",
			text: `vip = true`},
		{name: "Rage-clickers at checkout",
			description: "Visitors who rage-clicked on a checkout page in the last 30 days, most at the slow Pay " +
				"button: the guide's undesired actions, with recordings to watch.",
			text: `rage_clicks(30d, page starts_with "/checkout")`},
	}
}

// saveSegments saves specs on a site as the API saves a segment: parsed
// and validated against the site's catalog, stored in canonical text and
// JSON, and counted.
func saveSegments(ctx context.Context, eng *engine.Engine, db store.Segments, site int64, author string,
	specs []segmentSpec) ([]SegmentSize, error) {
	if author == "" {
		author = DefaultAuthor
	}
	ids := map[string]string{}
	var out []SegmentSize
	for _, sp := range specs {
		text := sp.text
		if sp.ref != "" {
			id, ok := ids[sp.ref]
			if !ok {
				panic(fmt.Sprintf("BUG: demo segment %q refers to %q, which is not saved before it", sp.name, sp.ref))
			}
			text = fmt.Sprintf(sp.text, id)
		}
		n, err := eng.Prepare(ctx, site, engine.Definition{Text: text}, "")
		if err != nil {
			return out, fmt.Errorf("demo segment %q: %w", sp.name, err)
		}
		def, err := segment.MarshalNode(n)
		if err != nil {
			return out, err
		}
		s, err := db.SaveSegment(ctx, store.SavedSegment{SiteID: site, Name: sp.name, Description: sp.description,
			Author: author, Definition: def, Text: segment.Format(n)})
		if err != nil {
			return out, fmt.Errorf("save demo segment %q: %w", sp.name, err)
		}
		ids[sp.name] = s.ID
		size, err := eng.Count(ctx, site, n)
		if err != nil {
			return out, fmt.Errorf("count demo segment %q: %w", sp.name, err)
		}
		out = append(out, SegmentSize{ID: s.ID, Name: sp.name, Size: size})
	}
	return out, nil
}
