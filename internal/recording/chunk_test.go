package recording

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/apierr"
)

func TestParseChunk(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	ms := now.UnixMilli()
	ok := func(extra string) string {
		return `{"recording":"b1","anonymousId":"v1","seq":3,"start":` + itoa(ms-5000) + `,"end":` + itoa(ms-1000) +
			`,"url":"https://app.example.com/a","events":[{"type":4,"data":{"href":"https://app.example.com/b","width":1,"height":1},"timestamp":1},{"type":3,"data":{"source":1},"timestamp":2}]` +
			extra + `}`
	}
	with := func(field, value string) string { return replaceField(ok(""), field, value) }
	tests := []struct {
		name, body  string
		code, field string
	}{
		{"valid", ok(""), "", ""},
		{"valid with user and sentAt", ok(`,"userId":"u1","sentAt":` + itoa(ms-500)), "", ""},
		{"not JSON", `{"recording":`, "malformed_json", ""},
		{"wrong type", with("seq", `"three"`), "malformed_json", ""},
		{"no recording", with("recording", `""`), "missing_field", "recording"},
		{"recording with a slash", with("recording", `"../x"`), "invalid_field", "recording"},
		{"recording too long", with("recording", `"`+strings.Repeat("a", 65)+`"`), "invalid_field", "recording"},
		{"no anonymous ID", with("anonymousId", `""`), "missing_field", "anonymousId"},
		{"anonymous ID too long", with("anonymousId", `"`+strings.Repeat("a", 257)+`"`), "id_too_long", "anonymousId"},
		{"control character in user ID", ok(`,"userId":"a\u0000b"`), "invalid_id", "userId"},
		{"no seq", with("seq", "null"), "missing_field", "seq"},
		{"negative seq", with("seq", "-1"), "invalid_field", "seq"},
		{"seq too high", with("seq", "100001"), "invalid_field", "seq"},
		{"fractional seq", with("seq", "1.5"), "invalid_field", "seq"},
		{"no start", with("start", "null"), "missing_field", "start"},
		{"start in seconds", with("start", "1700000000"), "invalid_field", "start"},
		{"end before start", with("end", itoa(ms-9000)), "invalid_field", "end"},
		{"a chunk of five hours", with("start", itoa(ms-5*3600_000)), "invalid_field", "end"},
		{"two days ahead", replaceField(with("start", itoa(ms+48*3600_000)), "end", itoa(ms+48*3600_000)), "invalid_timestamp", "end"},
		{"no events", with("events", "null"), "missing_field", "events"},
		{"events not an array", with("events", `{"type":2}`), "invalid_field", "events"},
		{"event not an object", with("events", `[1]`), "invalid_event", "events"},
		{"event without type", with("events", `[{"timestamp":1}]`), "invalid_event", "events[0].type"},
		{"event of unknown type", with("events", `[{"type":2,"timestamp":1},{"type":9,"timestamp":1}]`), "invalid_event", "events[1].type"},
		{"event without timestamp", with("events", `[{"type":3,"data":{}}]`), "invalid_event", "events[0].timestamp"},
		{"url with a newline", with("url", `"https://a/\n"`), "invalid_field", "url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseChunk([]byte(tt.body), now)
			var e *apierr.Error
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.code != "" && !errors.As(err, &e):
				t.Fatalf("accepted (%v), want %s", err, tt.code)
			case tt.code != "" && (e.Code != tt.code || e.Field != tt.field || e.Status != 400):
				t.Fatalf("got %d %s (%s): %s; want %s (%s)", e.Status, e.Code, e.Field, e.Message, tt.code, tt.field)
			case tt.code == "" && (c.Seq != 3 || c.EventCount != 2 || len(c.Pages) != 2 ||
				c.Pages[0] != "https://app.example.com/b" || c.Pages[1] != "https://app.example.com/a"):
				t.Fatalf("chunk = %+v", c)
			}
		})
	}
}

func TestParseChunkCorrectsClockSkew(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	// The browser's clock is 10 minutes fast: it sent at its 12:10:00.
	fast := now.Add(10 * time.Minute).UnixMilli()
	body := `{"recording":"b1","anonymousId":"v1","seq":0,"start":` + itoa(fast-4000) + `,"end":` + itoa(fast-1000) +
		`,"sentAt":` + itoa(fast) + `,"events":[]}`
	c, err := parseChunk([]byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Start.Equal(now.Add(-4*time.Second)) || !c.End.Equal(now.Add(-time.Second)) {
		t.Fatalf("start %s, end %s; want 4 s and 1 s before %s", c.Start, c.End, now)
	}
	// Without sentAt the browser's times are kept.
	body = strings.Replace(body, `,"sentAt":`+itoa(fast), "", 1)
	if c, err = parseChunk([]byte(body), now); err != nil || c.Start.UnixMilli() != fast-4000 {
		t.Fatalf("without sentAt: %v, %v", c.Start, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// replaceField sets one top-level field of a JSON object to value (raw
// JSON), adding it when missing.
func replaceField(obj, field, value string) string {
	key := `"` + field + `":`
	i := strings.Index(obj, key)
	if i < 0 {
		return strings.TrimSuffix(obj, "}") + "," + key + value + "}"
	}
	j := i + len(key)
	depth, inStr := 0, false
	for ; j < len(obj); j++ {
		c := obj[j]
		switch {
		case inStr && c == '\\':
			j++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return obj[:i+len(key)] + value + obj[j:]
			}
			depth--
		case c == ',' && depth == 0:
			return obj[:i+len(key)] + value + obj[j:]
		}
	}
	return obj[:i+len(key)] + value
}
