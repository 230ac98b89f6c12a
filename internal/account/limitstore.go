package account

import (
	"context"
	"net/netip"
	"time"
)

// LimitStore keeps the sign-in limiter's windows where several Sightline
// nodes share them, so that an attacker spreading guesses over the nodes
// behind a load balancer meets the same limits as on one node. Without
// one (LimiterConfig.Store nil) the limiter keeps its windows in memory.
type LimitStore interface {
	// LimitWindows returns the window of each of keys that has one.
	LimitWindows(ctx context.Context, keys []string) (map[string]LimitWindow, error)
	// AddLimitFailure counts one failure under each of keys at now, in
	// one step: a key without a window, or whose window started window or
	// more before now, starts a new one at now. Windows that ended may be
	// forgotten.
	AddLimitFailure(ctx context.Context, keys []string, now time.Time, window time.Duration) error
	// ForgetLimit drops a key's window.
	ForgetLimit(ctx context.Context, key string) error
}

// LimitWindow is the failures counted under a key since Start.
type LimitWindow struct {
	Start    time.Time
	Failures int
}

// storeTimeout bounds each call to a LimitStore: a sign-in waits on it.
const storeTimeout = 2 * time.Second

// name is the key's name in a LimitStore: its kind, then the address,
// then the email (which may hold spaces; an address never does).
func (k limitKey) name() string {
	switch k.kind {
	case 'p':
		return "p " + k.client.String() + " " + k.email
	case 'a':
		return "a " + k.client.String()
	}
	return "e " + k.email
}

// waitShared is Wait over the store. A store that fails lets the attempt
// through (and is logged): the accounts live in the same database, so
// the sign-in fails anyway while it is down.
func (l *Limiter) waitShared(email string, client netip.Prefix) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	counts := l.counts(email, client)
	keys := make([]string, len(counts))
	for i, c := range counts {
		keys[i] = c.key.name()
	}
	windows, err := l.cfg.Store.LimitWindows(ctx, keys)
	if err != nil {
		l.cfg.Log.Warn("read sign-in limits", "err", err)
		return 0
	}
	now := l.cfg.Now()
	var wait time.Duration
	for i, c := range counts {
		w, ok := windows[keys[i]]
		if !ok {
			continue
		}
		if left := w.Start.Add(l.cfg.Window).Sub(now); left > 0 && w.Failures >= c.limit {
			wait = max(wait, left)
		}
	}
	return wait
}

func (l *Limiter) failShared(email string, client netip.Prefix) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	var keys []string
	for _, c := range l.counts(email, client) {
		keys = append(keys, c.key.name())
	}
	if err := l.cfg.Store.AddLimitFailure(ctx, keys, l.cfg.Now(), l.cfg.Window); err != nil {
		l.cfg.Log.Warn("count a failed sign-in", "err", err)
	}
}

func (l *Limiter) succeedShared(email string, client netip.Prefix) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := l.cfg.Store.ForgetLimit(ctx, limitKey{'p', email, client}.name()); err != nil {
		l.cfg.Log.Warn("forget sign-in failures", "err", err)
	}
}
