package account

import (
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// LimiterConfig tunes the sign-in limiter. Zero fields take their
// defaults.
type LimiterConfig struct {
	// MaxFailures is how many failed sign-ins one email may have from one
	// client address within Window before further attempts from that
	// address for that email are refused (10). The pair is counted, not
	// the email alone, so that someone who knows the owner's email cannot
	// lock the owner out from another address.
	MaxFailures int
	// MaxPerIP bounds the failures from one client address for all emails
	// (30), so that one address cannot try many accounts.
	MaxPerIP int
	// MaxPerEmail bounds the failures for one email from all addresses
	// (100), far above MaxFailures: it caps the guesses that many
	// addresses together make at one password, at the price of their
	// being able to make that email wait if they make that many.
	MaxPerEmail int
	// Window is how long failures are counted from the first (15 minutes).
	Window time.Duration
	// MaxKeys bounds the counts remembered (30,000 by default; each failure
	// counts under three keys).
	MaxKeys int
	// Now is the clock; tests set it.
	Now func() time.Time
	// Store, when set, keeps the windows instead of memory, shared by
	// several nodes (MaxKeys then does not apply: the store forgets
	// windows that ended).
	Store LimitStore
	// Log receives the store's failures.
	Log *slog.Logger
}

func (c *LimiterConfig) defaults() {
	if c.MaxFailures <= 0 {
		c.MaxFailures = 10
	}
	if c.MaxPerIP <= 0 {
		c.MaxPerIP = 30
	}
	if c.MaxPerEmail <= 0 {
		c.MaxPerEmail = 100
	}
	if c.Window <= 0 {
		c.Window = 15 * time.Minute
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 30_000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Limiter counts failed sign-ins per email and client address pair, per
// address and per email, in fixed windows that start at a key's first
// failure. Its memory is bounded: when MaxKeys keys are remembered, expired
// windows are forgotten, and if none has expired the oldest window goes.
type Limiter struct {
	cfg  LimiterConfig
	mu   sync.Mutex
	keys map[limitKey]*window
}

// limitKey is what a count is kept for: a pair, an address or an email.
type limitKey struct {
	kind   byte // 'p', 'a' or 'e'
	email  string
	client netip.Prefix
}

// count is a key a sign-in counts under, with its limit.
type count struct {
	key   limitKey
	limit int
}

type window struct {
	start    time.Time
	failures int
}

// NewLimiter returns a limiter with cfg's limits.
func NewLimiter(cfg LimiterConfig) *Limiter {
	cfg.defaults()
	return &Limiter{cfg: cfg, keys: map[limitKey]*window{}}
}

// counts are the keys a sign-in as email from client counts under, with
// their limits.
func (l *Limiter) counts(email string, client netip.Prefix) [3]count {
	return [3]count{
		{limitKey{'p', email, client}, l.cfg.MaxFailures},
		{limitKey{kind: 'a', client: client}, l.cfg.MaxPerIP},
		{limitKey{kind: 'e', email: email}, l.cfg.MaxPerEmail},
	}
}

// Wait returns how long an attempt to sign in as email from client must
// wait: zero when neither the pair, nor the address, nor the email has
// reached its limit.
func (l *Limiter) Wait(email string, client netip.Prefix) time.Duration {
	if l.cfg.Store != nil {
		return l.waitShared(email, client)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	var wait time.Duration
	for _, c := range l.counts(email, client) {
		w, ok := l.keys[c.key]
		if !ok {
			continue
		}
		left := w.start.Add(l.cfg.Window).Sub(now)
		if left <= 0 {
			delete(l.keys, c.key)
			continue
		}
		if w.failures >= c.limit {
			wait = max(wait, left)
		}
	}
	return wait
}

// Fail records a failed attempt to sign in as email from client.
func (l *Limiter) Fail(email string, client netip.Prefix) {
	if l.cfg.Store != nil {
		l.failShared(email, client)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	for _, c := range l.counts(email, client) {
		w, ok := l.keys[c.key]
		if ok && now.Sub(w.start) >= l.cfg.Window {
			w.start, w.failures = now, 0
		}
		if !ok {
			l.makeRoom(now)
			w = &window{start: now}
			l.keys[c.key] = w
		}
		w.failures++
	}
}

// Succeed forgets the failures of the pair after a successful sign-in.
// The address's and the email's counts stay: one success does not clear
// what other attempts did.
func (l *Limiter) Succeed(email string, client netip.Prefix) {
	if l.cfg.Store != nil {
		l.succeedShared(email, client)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, limitKey{'p', email, client})
}

// Len is how many counts are remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// makeRoom frees a slot when the map is full. Sweeping costs one pass over
// the map, only when it is full, which a burst of failures from many
// addresses causes; each failure also costs a password hash, far more.
func (l *Limiter) makeRoom(now time.Time) {
	if len(l.keys) < l.cfg.MaxKeys {
		return
	}
	var oldest limitKey
	var oldestStart time.Time
	found := false
	for k, w := range l.keys {
		if now.Sub(w.start) >= l.cfg.Window {
			delete(l.keys, k)
			continue
		}
		if !found || w.start.Before(oldestStart) {
			oldest, oldestStart, found = k, w.start, true
		}
	}
	if len(l.keys) >= l.cfg.MaxKeys {
		delete(l.keys, oldest)
	}
}
