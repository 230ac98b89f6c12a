package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkSiteAPIAuth times the cheapest site API call (GET the site)
// authenticated by a bearer token and by a session cookie, over loopback:
// the cookie costs one database look-up of the session and its account.
func BenchmarkSiteAPIAuth(b *testing.B) {
	s := startServer(b, nil)
	resp, err := http.Post(s.base+"/api/v1/setup", "application/json",
		strings.NewReader(`{"email":"o@example.com","name":"O","password":"`+ownerPassword+`"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("setup: %v %v", resp, err)
	}
	resp.Body.Close()
	cookie := resp.Cookies()[0]
	for _, tc := range []struct {
		name string
		auth func(*http.Request)
	}{
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+s.tokens["read"]) }},
		{"cookie", func(r *http.Request) { r.AddCookie(cookie) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest("GET", s.base+"/api/v1/sites/"+s.site, nil)
				tc.auth(req)
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("%v %v", resp, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
