package loadgen

import (
	"fmt"
	"math/rand/v2"
)

// vocabulary is the fixed material that messages are made of: real
// user-agent strings, pages, events and traits of a made-up SaaS product. It
// is built by newVocabulary rather than held in package variables so that
// nothing in the package is mutable and shared.
type vocabulary struct {
	userAgents []string
	locales    []string
	timezones  []string
	referrers  []string
	pages      []pageInfo
	events     []eventKind
	firstNames []string
	lastNames  []string
	companies  []string
	plans      []string
}

// pageInfo is one page of the made-up product.
type pageInfo struct {
	name  string
	path  string
	title string
}

// eventKind is a track event name with a generator of its properties.
type eventKind struct {
	name  string
	props func(r *rand.Rand) map[string]any
}

// siteOrigin prefixes every page URL. example.com is reserved for
// documentation, so nothing real is ever named.
const siteOrigin = "https://app.example.com"

func newVocabulary() vocabulary {
	pick := func(r *rand.Rand, xs ...string) string { return xs[r.IntN(len(xs))] }
	return vocabulary{
		// Current browsers on the common platforms, as they send them.
		userAgents: []string{
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
			"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
			"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
			"Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
		},
		locales:   []string{"en-US", "en-US", "en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "pt-BR", "ja-JP", "nl-NL"},
		timezones: []string{"America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Europe/Paris", "America/Sao_Paulo", "Asia/Tokyo", "Australia/Sydney"},
		referrers: []string{"", "", "", "https://www.google.com/", "https://www.bing.com/", "https://news.ycombinator.com/", "https://twitter.com/", siteOrigin + "/dashboard"},
		pages: []pageInfo{
			{"Dashboard", "/dashboard", "Dashboard · Example"},
			{"Reports", "/reports", "Reports · Example"},
			{"Report", "/reports/weekly-active-users", "Weekly active users · Example"},
			{"Report", "/reports/retention", "Retention · Example"},
			{"Funnels", "/funnels/signup", "Signup funnel · Example"},
			{"Settings", "/settings/billing", "Billing · Example"},
			{"Settings", "/settings/team", "Team · Example"},
			{"Pricing", "/pricing", "Pricing · Example"},
			{"Docs", "/docs/getting-started", "Getting started · Example Docs"},
			{"Home", "/", "Example — product analytics"},
		},
		events: []eventKind{
			{"Clicked Export", func(r *rand.Rand) map[string]any {
				return map[string]any{"format": pick(r, "csv", "csv", "xlsx", "pdf"), "rows": r.IntN(50000), "report": pick(r, "Weekly Active Users", "Retention", "Revenue")}
			}},
			{"Viewed Dashboard", func(r *rand.Rand) map[string]any {
				return map[string]any{"dashboard_id": fmt.Sprintf("d_%d", r.IntN(500)), "widgets": 1 + r.IntN(24), "shared": r.IntN(5) == 0}
			}},
			{"Signed Up", func(r *rand.Rand) map[string]any {
				return map[string]any{"plan": pick(r, "free", "free", "pro", "team"), "method": pick(r, "email", "google", "github")}
			}},
			{"Added to Cart", func(r *rand.Rand) map[string]any {
				return map[string]any{"product_id": fmt.Sprintf("p_%d", r.IntN(2000)), "price": float64(100+r.IntN(19900)) / 100, "currency": "USD", "quantity": 1 + r.IntN(3)}
			}},
			{"Completed Order", func(r *rand.Rand) map[string]any {
				return map[string]any{"order_id": fmt.Sprintf("o_%d", r.IntN(1_000_000)), "revenue": float64(500+r.IntN(49500)) / 100, "currency": pick(r, "USD", "EUR", "GBP"), "items": 1 + r.IntN(6), "coupon": pick(r, "", "", "SPRING10")}
			}},
			{"Invited Teammate", func(r *rand.Rand) map[string]any {
				return map[string]any{"role": pick(r, "member", "member", "admin"), "invite_count": 1 + r.IntN(5)}
			}},
			{"Searched", func(r *rand.Rand) map[string]any {
				return map[string]any{"query": pick(r, "retention", "export csv", "funnel", "api token", "sso"), "results": r.IntN(40)}
			}},
			{"Played Video", func(r *rand.Rand) map[string]any {
				d := 30 + r.IntN(600)
				return map[string]any{"video_id": fmt.Sprintf("v_%d", r.IntN(80)), "duration_s": d, "position_s": r.IntN(d), "autoplay": r.IntN(4) == 0}
			}},
		},
		firstNames: []string{"Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Alan", "Radia", "Edsger", "Hedy"},
		lastNames:  []string{"Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Turing", "Perlman", "Dijkstra", "Lamarr"},
		companies:  []string{"Initech", "Globex", "Acme", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne"},
		plans:      []string{"free", "free", "pro", "team", "enterprise"},
	}
}
