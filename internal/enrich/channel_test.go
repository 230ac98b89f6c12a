package enrich_test

import (
	"slices"
	"testing"

	"github.com/sightline/sightline/internal/enrich"
)

const page = "https://www.example.com/pricing?plan=pro"

func TestChannel(t *testing.T) {
	tests := []struct {
		name     string
		referrer string
		pageURL  string
		utm      enrich.UTM
		want     string
	}{
		// Campaign parameters.
		{"cpc", "https://www.google.com/", page, enrich.UTM{Source: "google", Medium: "cpc"}, "paid_search"},
		{"ppc upper case", "", page, enrich.UTM{Source: "bing", Medium: " PPC "}, "paid_search"},
		{"paidsearch", "", page, enrich.UTM{Medium: "paidsearch"}, "paid_search"},
		{"cpc from facebook", "", page, enrich.UTM{Source: "facebook", Medium: "cpc"}, "paid_social"},
		{"cpc from fb", "", page, enrich.UTM{Source: "fb", Medium: "cpc"}, "paid_social"},
		{"cpc from linkedin host", "", page, enrich.UTM{Source: "lnkd.in", Medium: "cpc"}, "paid_social"},
		{"paid_social", "", page, enrich.UTM{Source: "meta", Medium: "paid_social"}, "paid_social"},
		{"email", "", page, enrich.UTM{Source: "mailchimp", Medium: "email"}, "email"},
		{"e-mail", "", page, enrich.UTM{Medium: "e-mail"}, "email"},
		{"newsletter", "https://mail.google.com/", page, enrich.UTM{Medium: "newsletter"}, "email"},
		{"social", "", page, enrich.UTM{Source: "twitter", Medium: "social"}, "organic_social"},
		{"social-network", "", page, enrich.UTM{Medium: "social-network"}, "organic_social"},
		{"sm", "", page, enrich.UTM{Medium: "sm"}, "organic_social"},
		{"display", "", page, enrich.UTM{Medium: "display"}, "display"},
		{"banner", "", page, enrich.UTM{Medium: "banner"}, "display"},
		{"cpm", "", page, enrich.UTM{Medium: "cpm"}, "display"},
		{"affiliate", "https://coupons.example.net/", page, enrich.UTM{Medium: "affiliate"}, "affiliate"},
		{"organic medium", "", page, enrich.UTM{Source: "google", Medium: "organic"}, "organic_search"},
		{"unknown medium", "https://www.google.com/", page, enrich.UTM{Source: "google", Medium: "qr"}, "other"},
		{"source only search", "", page, enrich.UTM{Source: "Google"}, "organic_search"},
		{"source only social", "", page, enrich.UTM{Source: "news.ycombinator.com"}, "organic_social"},
		{"source only newsletter", "", page, enrich.UTM{Source: "newsletter"}, "email"},
		{"source only unknown", "", page, enrich.UTM{Source: "producthunt"}, "referral"},
		{"campaign alone is ignored", "", page, enrich.UTM{Campaign: "spring"}, "direct"},

		// Referrer only.
		{"no referrer", "", page, enrich.UTM{}, "direct"},
		{"same host", "https://www.example.com/", page, enrich.UTM{}, "direct"},
		{"same host without www", "https://example.com/blog", page, enrich.UTM{}, "direct"},
		{"same host upper case with port", "HTTPS://Example.COM:443/", page, enrich.UTM{}, "direct"},
		{"about:blank", "about:blank", page, enrich.UTM{}, "direct"},
		{"google", "https://www.google.com/", page, enrich.UTM{}, "organic_search"},
		{"google country domain", "https://www.google.co.uk/", page, enrich.UTM{}, "organic_search"},
		{"google app", "android-app://com.google.android.googlequicksearchbox/", page, enrich.UTM{}, "organic_search"},
		{"gmail app", "android-app://com.google.android.gm/", page, enrich.UTM{}, "email"},
		{"bing", "https://www.bing.com/search?q=x", page, enrich.UTM{}, "organic_search"},
		{"duckduckgo", "https://duckduckgo.com/", page, enrich.UTM{}, "organic_search"},
		{"yahoo", "https://search.yahoo.com/", page, enrich.UTM{}, "organic_search"},
		{"yandex", "https://yandex.ru/", page, enrich.UTM{}, "organic_search"},
		{"baidu", "https://www.baidu.com/", page, enrich.UTM{}, "organic_search"},
		{"ecosia", "https://www.ecosia.org/", page, enrich.UTM{}, "organic_search"},
		{"brave search", "https://search.brave.com/", page, enrich.UTM{}, "organic_search"},
		{"brave.com is not search", "https://brave.com/", page, enrich.UTM{}, "referral"},
		{"facebook", "https://l.facebook.com/", page, enrich.UTM{}, "organic_social"},
		{"instagram", "https://l.instagram.com/", page, enrich.UTM{}, "organic_social"},
		{"t.co", "https://t.co/abc", page, enrich.UTM{}, "organic_social"},
		{"twitter", "https://twitter.com/", page, enrich.UTM{}, "organic_social"},
		{"x.com", "https://x.com/", page, enrich.UTM{}, "organic_social"},
		{"linkedin", "https://www.linkedin.com/", page, enrich.UTM{}, "organic_social"},
		{"lnkd.in", "https://lnkd.in/x", page, enrich.UTM{}, "organic_social"},
		{"reddit", "https://old.reddit.com/r/golang", page, enrich.UTM{}, "organic_social"},
		{"pinterest", "https://www.pinterest.com/", page, enrich.UTM{}, "organic_social"},
		{"youtube", "https://m.youtube.com/", page, enrich.UTM{}, "organic_social"},
		{"tiktok", "https://www.tiktok.com/", page, enrich.UTM{}, "organic_social"},
		{"hacker news", "https://news.ycombinator.com/item?id=1", page, enrich.UTM{}, "organic_social"},
		{"lookalike is referral", "https://notgoogle.com/", page, enrich.UTM{}, "referral"},
		{"t.co lookalike is referral", "https://at.co/", page, enrich.UTM{}, "referral"},
		{"other site", "https://blog.golang.org/post", page, enrich.UTM{}, "referral"},
		{"subdomain of own site", "https://docs.example.com/", page, enrich.UTM{}, "referral"},
		{"referrer without scheme", "bing.com/search", page, enrich.UTM{}, "organic_search"},
		{"referrer with userinfo and port", "https://u:p@www.reddit.com:8443/", page, enrich.UTM{}, "organic_social"},
		{"IPv6 referrer", "http://[2001:db8::1]:8080/", page, enrich.UTM{}, "referral"},
		{"empty page URL", "https://example.com/", "", enrich.UTM{}, "referral"},
	}
	known := enrich.Channels()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := enrich.Channel(tt.referrer, tt.pageURL, tt.utm)
			if got != tt.want {
				t.Errorf("Channel(%q, %q, %+v) = %q, want %q", tt.referrer, tt.pageURL, tt.utm, got, tt.want)
			}
			if !slices.Contains(known, got) {
				t.Errorf("Channel returned %q, which Channels() does not list", got)
			}
		})
	}
}

func TestChannels(t *testing.T) {
	want := []string{"direct", "organic_search", "paid_search", "organic_social", "paid_social",
		"email", "referral", "affiliate", "display", "other"}
	got := enrich.Channels()
	if !slices.Equal(got, want) {
		t.Fatalf("Channels() = %q, want %q", got, want)
	}
	got[0] = "changed"
	if enrich.Channels()[0] != "direct" {
		t.Error("Channels() returned shared state")
	}
}

func TestParseUTM(t *testing.T) {
	tests := []struct {
		name    string
		pageURL string
		want    enrich.UTM
	}{
		{"all five", "https://example.com/?utm_source=google&utm_medium=cpc&utm_campaign=spring+sale&utm_term=shoes&utm_content=ad%201",
			enrich.UTM{Source: "google", Medium: "cpc", Campaign: "spring sale", Term: "shoes", Content: "ad 1"}},
		{"some", "https://example.com/p?x=1&utm_source=newsletter&utm_medium=email",
			enrich.UTM{Source: "newsletter", Medium: "email"}},
		{"trimmed", "https://example.com/?utm_source=%20google%20", enrich.UTM{Source: "google"}},
		{"fragment ignored", "https://example.com/?utm_source=a#utm_medium=b", enrich.UTM{Source: "a"}},
		{"first value wins", "https://example.com/?utm_source=a&utm_source=b", enrich.UTM{Source: "a"}},
		{"malformed pair skipped", "https://example.com/?utm_source=%zz&utm_medium=cpc", enrich.UTM{Medium: "cpc"}},
		{"relative URL", "/landing?utm_campaign=x", enrich.UTM{Campaign: "x"}},
		{"utm in path only", "https://example.com/utm_source", enrich.UTM{}},
		{"no query", "https://example.com/", enrich.UTM{}},
		{"empty", "", enrich.UTM{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := enrich.ParseUTM(tt.pageURL); got != tt.want {
				t.Errorf("ParseUTM(%q) = %+v, want %+v", tt.pageURL, got, tt.want)
			}
		})
	}
}

func BenchmarkChannel(b *testing.B) {
	cases := []struct {
		referrer string
		utm      enrich.UTM
	}{
		{"", enrich.UTM{}},
		{"https://www.google.com/", enrich.UTM{}},
		{"https://www.example.com/other", enrich.UTM{}},
		{"https://news.ycombinator.com/item?id=1", enrich.UTM{}},
		{"https://blog.golang.org/post", enrich.UTM{}},
		{"", enrich.UTM{Source: "facebook", Medium: "cpc"}},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := cases[i%len(cases)]
		enrich.Channel(c.referrer, page, c.utm)
	}
}
