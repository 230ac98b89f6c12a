package account

import (
	"sync"
	"time"
)

// LimiterConfig tunes the sign-in limiter. Zero fields take their
// defaults.
type LimiterConfig struct {
	// MaxFailures is how many failed sign-ins a key (an email or a client
	// IP) may have within Window before further attempts are refused (10).
	MaxFailures int
	// Window is how long failures are counted from the first (15 minutes).
	Window time.Duration
	// MaxKeys bounds the keys remembered (10,000 by default).
	MaxKeys int
	// Now is the clock; tests set it.
	Now func() time.Time
}

func (c *LimiterConfig) defaults() {
	if c.MaxFailures <= 0 {
		c.MaxFailures = 10
	}
	if c.Window <= 0 {
		c.Window = 15 * time.Minute
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 10_000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Limiter counts failed sign-ins per key in fixed windows that start at a
// key's first failure. Its memory is bounded: when MaxKeys keys are
// remembered, expired windows are forgotten, and if none has expired the
// oldest window goes.
type Limiter struct {
	cfg  LimiterConfig
	mu   sync.Mutex
	keys map[string]*window
}

type window struct {
	start    time.Time
	failures int
}

// NewLimiter returns a limiter with cfg's limits.
func NewLimiter(cfg LimiterConfig) *Limiter {
	cfg.defaults()
	return &Limiter{cfg: cfg, keys: map[string]*window{}}
}

// Wait returns how long the caller must wait before trying again with any
// of keys: zero when none of them has reached the limit.
func (l *Limiter) Wait(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	var wait time.Duration
	for _, k := range keys {
		w, ok := l.keys[k]
		if !ok {
			continue
		}
		left := w.start.Add(l.cfg.Window).Sub(now)
		if left <= 0 {
			delete(l.keys, k)
			continue
		}
		if w.failures >= l.cfg.MaxFailures {
			wait = max(wait, left)
		}
	}
	return wait
}

// Fail records a failed attempt for each of keys.
func (l *Limiter) Fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	for _, k := range keys {
		w, ok := l.keys[k]
		if ok && now.Sub(w.start) >= l.cfg.Window {
			w.start, w.failures = now, 0
		}
		if !ok {
			l.makeRoom(now)
			w = &window{start: now}
			l.keys[k] = w
		}
		w.failures++
	}
}

// Reset forgets the failures of key, after a successful sign-in.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// Len is how many keys are remembered.
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
	var oldest string
	var oldestStart time.Time
	for k, w := range l.keys {
		if now.Sub(w.start) >= l.cfg.Window {
			delete(l.keys, k)
			continue
		}
		if oldest == "" || w.start.Before(oldestStart) {
			oldest, oldestStart = k, w.start
		}
	}
	if len(l.keys) >= l.cfg.MaxKeys {
		delete(l.keys, oldest)
	}
}
