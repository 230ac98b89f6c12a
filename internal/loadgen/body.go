package loadgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// A Body is one pre-rendered request body: {"batch":[...],"sentAt":...}. The
// fields that must differ on every send — message IDs, users and times — are
// fixed-width slots that a Stamper overwrites in place, so sending a body
// costs no JSON encoding and no allocation.
type Body struct {
	buf      []byte
	slots    []slot
	messages int
}

// Bytes returns the rendered body. It is valid JSON at all times, before
// and after stamping.
func (b *Body) Bytes() []byte { return b.buf }

// Messages returns the number of messages in the batch.
func (b *Body) Messages() int { return b.messages }

// slotKind says what a slot holds.
type slotKind uint8

const (
	slotMessageID   slotKind = iota // unique UUID-shaped ID
	slotTime                        // RFC 3339 time in UTC with milliseconds
	slotUserDigits                  // zero-padded user number, in userId and email
	slotAnonymousID                 // UUID-shaped ID derived from the user number
)

const (
	uuidLen    = 36
	timeLayout = "2006-01-02T15:04:05.000Z"
	timeLen    = len(timeLayout)
)

// slot is a fixed-width field inside a Body.
type slot struct {
	off  int32
	msg  int32 // index of the message it belongs to; -1 for sentAt
	kind slotKind
}

// MessageMix sets what a generated batch is made of.
type MessageMix struct {
	// Batch is the number of messages in a body.
	Batch int
	// Users is the number of distinct users that messages are spread over.
	Users int
	// Identify and Page are the fractions of identify and page messages; the
	// rest are track messages.
	Identify float64
	Page     float64
	// Anonymous is the fraction of page and track messages sent before
	// login: they carry an anonymousId and no userId.
	Anonymous float64
}

// userDigits returns the width of a zero-padded user number.
func (m MessageMix) userDigits() int { return len(strconv.Itoa(max(m.Users-1, 0))) }

// A Generator renders Bodies of realistic Segment messages. It is not safe
// for concurrent use; give each worker its own.
type Generator struct {
	mix   MessageMix
	rng   *rand.Rand
	vocab vocabulary
	width int
}

// NewGenerator returns a Generator whose output is determined by seed.
func NewGenerator(mix MessageMix, seed uint64) *Generator {
	return &Generator{
		mix:   mix,
		rng:   rand.New(rand.NewPCG(seed, 0x5167_6874_6c69_6e65)),
		vocab: newVocabulary(),
		width: mix.userDigits(),
	}
}

// Body renders a new body of mix.Batch messages.
func (g *Generator) Body() (*Body, error) {
	w := &bodyWriter{width: g.width}
	w.raw(`{"batch":[`)
	for i := range g.mix.Batch {
		if i > 0 {
			w.raw(",")
		}
		g.message(w, int32(i))
	}
	w.raw(`],"sentAt":"`)
	w.slot(slotTime, -1)
	w.raw(`"}`)
	if w.err != nil {
		return nil, fmt.Errorf("render batch: %w", w.err)
	}
	return &Body{buf: w.buf, slots: w.slots, messages: g.mix.Batch}, nil
}

// message renders one Segment message. Keys come in the order
// analytics.js sends them; maps (sorted by key) hold the free-form parts.
func (g *Generator) message(w *bodyWriter, msg int32) {
	r, v := g.rng, g.vocab
	typ := "track"
	switch x := r.Float64(); {
	case x < g.mix.Identify:
		typ = "identify"
	case x < g.mix.Identify+g.mix.Page:
		typ = "page"
	}
	anonymous := typ != "identify" && r.Float64() < g.mix.Anonymous
	page := v.pages[r.IntN(len(v.pages))]
	pageProps := map[string]any{
		"url":      siteOrigin + page.path,
		"path":     page.path,
		"title":    page.title,
		"referrer": v.referrers[r.IntN(len(v.referrers))],
		"search":   "",
	}

	w.raw(`{"type":"` + typ + `","messageId":"`)
	w.slot(slotMessageID, msg)
	w.raw(`","timestamp":"`)
	w.slot(slotTime, msg)
	if !anonymous {
		w.raw(`","userId":"u_`)
		w.slot(slotUserDigits, msg)
	}
	w.raw(`","anonymousId":"`)
	w.slot(slotAnonymousID, msg)
	w.raw(`"`)

	switch typ {
	case "track":
		ev := v.events[r.IntN(len(v.events))]
		w.raw(`,"event":`)
		w.json(ev.name)
		w.raw(`,"properties":`)
		w.json(ev.props(r))
	case "page":
		w.raw(`,"name":`)
		w.json(page.name)
		w.raw(`,"properties":`)
		w.json(pageProps)
	case "identify":
		// The email is built from the user number so that it always agrees
		// with userId, whoever the Stamper picks.
		w.raw(`,"traits":{"email":"user`)
		w.slot(slotUserDigits, msg)
		w.raw(`@example.com",`)
		w.jsonFields(map[string]any{
			"name":       v.firstNames[r.IntN(len(v.firstNames))] + " " + v.lastNames[r.IntN(len(v.lastNames))],
			"plan":       v.plans[r.IntN(len(v.plans))],
			"logins":     1 + r.IntN(300),
			"is_admin":   r.IntN(10) == 0,
			"created_at": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(600*24)) * time.Hour).Format(time.RFC3339),
			"company": map[string]any{
				"name":      v.companies[r.IntN(len(v.companies))],
				"employees": 5 + r.IntN(5000),
			},
		})
	}

	w.raw(`,"context":`)
	w.json(map[string]any{
		"userAgent": v.userAgents[r.IntN(len(v.userAgents))],
		"ip":        documentationIP(r),
		"locale":    v.locales[r.IntN(len(v.locales))],
		"timezone":  v.timezones[r.IntN(len(v.timezones))],
		"library":   map[string]any{"name": "analytics.js", "version": "next-1.76.0"},
		"page":      pageProps,
	})
	w.raw("}")
}

// documentationIP returns an address from the ranges reserved for
// documentation (RFC 5737), so no real network is ever named. GeoIP lookups
// find nothing for them.
func documentationIP(r *rand.Rand) string {
	nets := [...]string{"192.0.2", "198.51.100", "203.0.113"}
	return nets[r.IntN(len(nets))] + "." + strconv.Itoa(1+r.IntN(254))
}

// bodyWriter appends JSON text and records slots. The first error sticks.
type bodyWriter struct {
	buf   []byte
	slots []slot
	width int
	err   error
}

func (w *bodyWriter) raw(s string) { w.buf = append(w.buf, s...) }

func (w *bodyWriter) json(v any) {
	b, err := json.Marshal(v)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.buf = append(w.buf, b...)
}

// jsonFields appends the fields of object v and its closing brace, for an
// object whose opening brace and first fields are already written.
func (w *bodyWriter) jsonFields(v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil && w.err == nil {
		w.err = err
	}
	if len(b) > 0 {
		w.buf = append(w.buf, b[1:]...)
	}
}

// slot appends a placeholder that is valid in place of the real value.
func (w *bodyWriter) slot(kind slotKind, msg int32) {
	w.slots = append(w.slots, slot{off: int32(len(w.buf)), msg: msg, kind: kind})
	switch kind {
	case slotMessageID, slotAnonymousID:
		w.buf = appendUUID(w.buf, 0, 0)
	case slotTime:
		w.buf = time.Unix(0, 0).UTC().AppendFormat(w.buf, timeLayout)
	case slotUserDigits:
		for range w.width {
			w.buf = append(w.buf, '0')
		}
	}
}

// appendUUID appends hi and lo as 8-4-4-4-12 hexadecimal digits.
func appendUUID(b []byte, hi, lo uint64) []byte {
	var u [uuidLen]byte
	putUUID(u[:], hi, lo)
	return append(b, u[:]...)
}

// putUUID writes hi and lo as 8-4-4-4-12 hexadecimal digits into dst.
func putUUID(dst []byte, hi, lo uint64) {
	const hex = "0123456789abcdef"
	j := 0
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			dst[j] = '-'
			j++
		}
		word, shift := hi, 60-4*i
		if i >= 16 {
			word, shift = lo, 60-4*(i-16)
		}
		dst[j] = hex[(word>>uint(shift))&0xf]
		j++
	}
}
