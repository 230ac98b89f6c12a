package gen

import (
	"context"
	"math"
	"strconv"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
)

// UserKeys returns the twenty user attribute keys the generator sets, of
// all four types. Some are set for only some users: ab_variant for those in
// the onboarding test, trial_ends_at for those who started on a trial, plan
// not for trials that ended without a decision.
func UserKeys() map[string]attr.Type {
	return map[string]attr.Type{
		"email": attr.String, "name": attr.String, "plan": attr.String, "persona": attr.String,
		"role": attr.String, "company_size": attr.String, "country": attr.String, "language": attr.String,
		"ab_variant": attr.String, "referral_source": attr.String, "industry": attr.String,
		"ltv": attr.Number, "seats": attr.Number, "invoices_sent": attr.Number,
		"beta": attr.Boolean, "onboarding_completed": attr.Boolean, "marketing_opt_in": attr.Boolean,
		"signed_up_at": attr.Datetime, "last_login": attr.Datetime, "trial_ends_at": attr.Datetime,
	}
}

// GroupKeys returns the company attribute keys the generator sets.
func GroupKeys() map[string]attr.Type {
	return map[string]attr.Type{
		"name": attr.String, "industry": attr.String, "employees": attr.Number, "mrr": attr.Number,
		"country": attr.String, "created_at": attr.Datetime,
	}
}

// writeAttributes writes every identified user's attributes and their
// history. It runs after the activity, which decides last_login and
// invoices_sent.
func (g *generator) writeAttributes(ctx context.Context) error {
	for i := range g.people {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if g.sink.Err() != nil {
				return nil // Run reports it
			}
		}
		if p := &g.people[i]; p.flags&fAnon == 0 {
			g.userAttrs(i, p)
		}
		g.report("attributes", i+1, len(g.people))
	}
	return nil
}

func (g *generator) userAttrs(i int, p *person) {
	r := g.r
	co := &g.companies[p.company]
	set := func(key string, v attr.Value, t int64) {
		g.sink.SetAttr(g.site, store.EntityUser, p.key, key, v, at(t))
		g.stats.AttrValues++
		g.stats.AttrChanges++
	}
	change := func(key string, v attr.Value, t int64) {
		g.sink.AttrChange(g.site, store.EntityUser, p.key, key, v, at(t))
		g.stats.AttrChanges++
	}
	signup := p.signup
	first := firstNames[r.IntN(len(firstNames))]
	last := lastNames[r.IntN(len(lastNames))]
	_, domain := companyName(uint64(g.cfg.Seed), int(p.company))
	g.buf = append(append(g.buf[:0], first[0]+'a'-'A'), first[1:]...)
	g.buf = append(append(g.buf, '.', last[0]+'a'-'A'), last[1:]...)
	g.buf = strconv.AppendInt(g.buf, int64(i+1), 10)
	g.buf = append(append(g.buf, '@'), domain...)
	set("email", text(string(g.buf)), signup)
	set("name", text(first+" "+last), signup)

	// plan: its history, then its current value unless it was unset.
	for j := range int(p.nPlans) - 1 {
		t, plan := p.planStep(j)
		change("plan", text(planNames[plan]), t)
	}
	lastChange, plan := p.planStep(int(p.nPlans) - 1)
	if plan == planNone {
		change("plan", attr.Value{Type: attr.String, Null: true}, lastChange)
	} else {
		set("plan", text(planNames[plan]), lastChange)
	}
	if p.flags&fTrial != 0 {
		set("trial_ends_at", datetime(signup+14*day), signup)
	}
	set("signed_up_at", datetime(signup), signup)
	ltv, billed := g.lifetimeValue(p)
	set("ltv", number(ltv), billed)
	set("seats", number(float64(p.seats)), lastChange)

	roles := personaRoles[p.persona]
	set("persona", text(personaNames[p.persona]), signup)
	set("role", text(roles[r.IntN(len(roles))]), signup)
	set("company_size", text(companySize(co.employees)), signup)
	set("industry", text(industries[co.industry]), signup)
	set("country", text(countries[p.country].code), signup)
	set("language", text(countries[p.country].language), signup)
	set("referral_source", text(referralSources[p.referral].name), signup)
	set("beta", boolean(p.flags&fBeta != 0), signup)
	set("marketing_opt_in", boolean(p.flags&fOptIn != 0), signup)
	if p.flags&fInTest != 0 {
		set("ab_variant", text(abVariant(p)), signup)
	}
	if p.onboarded != 0 {
		change("onboarding_completed", boolean(false), signup)
		set("onboarding_completed", boolean(true), p.onboarded)
	} else {
		set("onboarding_completed", boolean(false), signup)
	}

	// Activity before the window is not generated, but it happened: a last
	// login then, and invoices sent at about the user's pace.
	login := p.lastSeen
	if login == 0 {
		end := min(g.start, g.now)
		if p.until != 0 {
			end = min(end, p.until)
		}
		login = min(signup+r.Int64N(max(end-signup, hour)), g.now)
	}
	set("last_login", datetime(login), login)
	before := float64(max(g.start-signup, 0)) / day
	invoices := int64(p.invoices) + int64(before*float64(p.pDay)*invoiceRate[p.persona])
	set("invoices_sent", number(float64(invoices)), login)
}

// invoiceRate is about how many invoices a persona sends a day of use.
var invoiceRate = [numPersonas]float64{1.5, 0.4, 0.8, 1.8, 0.1}

// lifetimeValue is what the user has paid, month by month on each paid
// plan, with some noise for discounts and seat changes; and when it was
// last billed.
func (g *generator) lifetimeValue(p *person) (float64, int64) {
	var sum float64
	billed := p.signup
	for j := range int(p.nPlans) {
		from, plan := p.planStep(j)
		to := g.now
		if j+1 < int(p.nPlans) {
			to, _ = p.planStep(j + 1)
		}
		if m := monthly(plan, int(p.seats)); m > 0 {
			months := math.Ceil(float64(to-from) / (30 * day))
			sum += months * m
			billed = min(from+int64(months-1)*30*day, to)
		}
	}
	if sum == 0 {
		return 0, billed
	}
	return money(sum * math.Exp(0.15*g.r.NormFloat64())), billed
}

// abVariant is the onboarding test variant a user saw.
func abVariant(p *person) string {
	if p.flags&fVariantB != 0 {
		return "B"
	}
	return "A"
}
