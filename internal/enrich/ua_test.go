package enrich_test

import (
	"sync"
	"testing"

	"github.com/sightline/sightline/internal/enrich"
)

// Real user agent strings, shared by the tests and the benchmarks.
const (
	uaChromeWindows  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	uaSafariIPhone   = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaSafariIPad     = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaSafariMac      = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	uaFirefoxLinux   = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
	uaChromeAndroid  = "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
	uaEdgeWindows    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87"
	uaGooglebot      = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	uaGooglebotPhone = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	uaSamsungTV      = "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36"
	uaCurl           = "curl/8.5.0"

	uaHeadlessLinux   = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.85 Safari/537.36"
	uaHeadlessWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"
	uaHeadlessAndroid = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Mobile Safari/537.36"
	uaHeadlessAhrefs  = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"
	uaHeadlessGoogle  = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) HeadlessChrome/131.0.6778.85 Safari/537.36"
	uaGooglebotChrome = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/131.0.6778.85 Safari/537.36"
	uaBingbot         = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
)

func TestUAParserParse(t *testing.T) {
	p := enrich.NewUAParser()
	tests := []struct {
		name string
		ua   string
		want enrich.Device
	}{
		{"chrome windows", uaChromeWindows, enrich.Device{Browser: "Chrome", BrowserVersion: "126", OS: "Windows", DeviceType: "desktop"}},
		{"safari iphone", uaSafariIPhone, enrich.Device{Browser: "Safari", BrowserVersion: "17", OS: "iOS", DeviceType: "mobile"}},
		{"safari ipad", uaSafariIPad, enrich.Device{Browser: "Safari", BrowserVersion: "17", OS: "iOS", DeviceType: "tablet"}},
		{"safari mac", uaSafariMac, enrich.Device{Browser: "Safari", BrowserVersion: "17", OS: "MacOS", DeviceType: "desktop"}},
		{"firefox linux", uaFirefoxLinux, enrich.Device{Browser: "Firefox", BrowserVersion: "127", OS: "Linux", DeviceType: "desktop"}},
		{"chrome android", uaChromeAndroid, enrich.Device{Browser: "Chrome", BrowserVersion: "126", OS: "Android", DeviceType: "mobile"}},
		{"edge windows", uaEdgeWindows, enrich.Device{Browser: "Edge", BrowserVersion: "126", OS: "Windows", DeviceType: "desktop"}},
		{"googlebot", uaGooglebot, enrich.Device{DeviceType: "bot"}},
		{"googlebot smartphone", uaGooglebotPhone, enrich.Device{Browser: "Chrome", BrowserVersion: "126", OS: "Android", DeviceType: "bot"}},
		{"smart tv counts as unknown", uaSamsungTV, enrich.Device{Browser: "Samsung Browser", BrowserVersion: "4", OS: "Linux", DeviceType: "unknown"}},
		{"curl", uaCurl, enrich.Device{DeviceType: "bot"}},
		{"headless chrome on linux is a browser", uaHeadlessLinux, enrich.Device{Browser: "Headless Chrome", BrowserVersion: "131", OS: "Linux", DeviceType: "desktop"}},
		{"headless chrome on windows", uaHeadlessWindows, enrich.Device{Browser: "Headless Chrome", BrowserVersion: "120", OS: "Windows", DeviceType: "desktop"}},
		{"headless chrome emulating a phone", uaHeadlessAndroid, enrich.Device{Browser: "Headless Chrome", BrowserVersion: "126", OS: "Android", DeviceType: "mobile"}},
		{"a crawler on headless chrome stays a bot", uaHeadlessAhrefs, enrich.Device{Browser: "Chrome", BrowserVersion: "131", OS: "Linux", DeviceType: "bot"}},
		{"googlebot on headless chrome stays a bot", uaHeadlessGoogle, enrich.Device{Browser: "Safari", DeviceType: "bot"}},
		{"googlebot desktop", uaGooglebotChrome, enrich.Device{Browser: "Chrome", BrowserVersion: "131", DeviceType: "bot"}},
		{"bingbot", uaBingbot, enrich.Device{DeviceType: "bot"}},
		{"garbage", "garbage", enrich.Device{DeviceType: "unknown"}},
		{"empty", "", enrich.Device{DeviceType: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Parse(tt.ua); got != tt.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.ua, got, tt.want)
			}
		})
	}
}

// TestUAParserConcurrent is meant for -race: many goroutines share one
// parser, as the ingestion workers do.
func TestUAParserConcurrent(t *testing.T) {
	p := enrich.NewUAParser()
	uas := []string{uaChromeWindows, uaSafariIPhone, uaSafariIPad, uaFirefoxLinux, uaGooglebot}
	want := make([]enrich.Device, len(uas))
	for i, ua := range uas {
		want[i] = p.Parse(ua)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := (g + i) % len(uas)
				if got := p.Parse(uas[k]); got != want[k] {
					t.Errorf("Parse(%q) = %+v, want %+v", uas[k], got, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}
