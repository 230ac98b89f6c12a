package scrub

import (
	"testing"

	"github.com/sightline/sightline/internal/store"
)

func TestURL(t *testing.T) {
	r := New([]string{"session_keep"}, []string{"Ref_Code"})
	for _, c := range []struct{ in, want string }{
		{"https://shop.example.com/p", "https://shop.example.com/p"},
		{"https://shop.example.com/p?q=shoes&token=abc&password=hunter2", "https://shop.example.com/p?q=shoes&token=&password="},
		{"/login?user_email=a%40b.c&next=/home", "/login?user_email=&next=/home"},
		{"/p?api-key=1&monkey=2&key=3&cc=4&accent=5", "/p?api-key=&monkey=2&key=&cc=&accent=5"},
		{"/p?ref_code=X1&REF_CODE=X2&code=9", "/p?ref_code=&REF_CODE=&code="},
		{"/p?session_keep=s1&session=s2", "/p?session_keep=s1&session="},
		{"/p?auth=1#access_token=xyz&state=ok", "/p?auth=#access_token=&state=ok"},
		{"/p#section-2", "/p#section-2"},
		{"/p?flag&token", "/p?flag&token"},
		{"/p?pass%77ord=x", "/p?pass%77ord="},
		{"?search=1&secret=2", "?search=1&secret="},
	} {
		if got := r.URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMessage(t *testing.T) {
	r := New(nil, nil)
	m := store.Message{Kind: store.KindPage, Page: store.Page{URL: "https://a.example/x?token=t1&q=1", Referrer: "https://b.example/?email=e"},
		Context:    store.Context{Referrer: "https://b.example/?email=e"},
		Properties: `{"url":"https://a.example/x?token=t1&q=1","search":"?token=t1&q=1","title":"T","n":1}`}
	r.Message(&m)
	if m.Page.URL != "https://a.example/x?token=&q=1" || m.Page.Referrer != "https://b.example/?email=" || m.Context.Referrer != m.Page.Referrer {
		t.Errorf("page = %+v, referrer %q", m.Page, m.Context.Referrer)
	}
	if want := `{"n":1,"search":"?token=&q=1","title":"T","url":"https://a.example/x?token=&q=1"}`; m.Properties != want {
		t.Errorf("properties = %s, want %s", m.Properties, want)
	}
	track := store.Message{Kind: store.KindTrack, Properties: `{"url":"/x?token=keep-mine"}`}
	r.Message(&track)
	if track.Properties != `{"url":"/x?token=keep-mine"}` {
		t.Errorf("a track event's own properties changed: %s", track.Properties)
	}
}

func TestRecordingEvents(t *testing.T) {
	r := New(nil, nil)
	in := []byte(`[{"type":4,"data":{"href":"https://a.example/x?password=p&q=1","width":1280,"height":800},"timestamp":1},{"type":3,"data":{"source":2,"href":"?token=in-dom"},"timestamp":2}]`)
	want := `[{"data":{"height":800,"href":"https://a.example/x?password=&q=1","width":1280},"timestamp":1,"type":4},{"type":3,"data":{"source":2,"href":"?token=in-dom"},"timestamp":2}]`
	if got := string(r.RecordingEvents(in)); got != want {
		t.Errorf("RecordingEvents =\n%s\nwant\n%s", got, want)
	}
	clean := []byte(`[{"type":4,"data":{"href":"https://a.example/x?q=1"},"timestamp":1}]`)
	if got := r.RecordingEvents(clean); &got[0] != &clean[0] {
		t.Error("events without secrets were rewritten")
	}
}
