package scaled

import (
	"context"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/store"
)

// Alert causes are recorded in PostgreSQL's outbox (pgstore's
// alert_causes), in the transaction that commits their change, for the
// sites whose rules watch them (the insert joins alert_config): exactly
// once, and at once visible to every node's alert service. So this
// store has no causes of its own for composite.Store to relay, keeps no
// copy of the watches, and only tells the local alert service after a
// commit that recorded some.

// alertWake is the function called after a commit that recorded causes.
type alertWake struct {
	mu sync.Mutex
	fn func()
}

func (w *alertWake) call() {
	w.mu.Lock()
	fn := w.fn
	w.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// SetAlertWake sets the function called after a commit that recorded
// alert causes (composite.Hooks).
func (db *DB) SetAlertWake(fn func()) {
	db.wake.mu.Lock()
	db.wake.fn = fn
	db.wake.mu.Unlock()
}

// SaveAlertConfig implements composite.Hooks: nothing to copy, the
// watches are read where the causes are recorded.
func (db *DB) SaveAlertConfig(context.Context, int64, []byte, []string) error { return nil }

// AlertCauses implements composite.Hooks: every cause is in the shared
// outbox already.
func (db *DB) AlertCauses(context.Context, int) ([]store.AlertCause, error) { return nil, nil }

// ResolveAlerts implements composite.Hooks: there is nothing to resolve
// here (see AlertCauses).
func (db *DB) ResolveAlerts(context.Context, []int64, []store.AlertMessage, []store.AlertMember) error {
	return nil
}

// SetRecordingSettings implements composite.Hooks: the expiry of
// recordings reads the settings in PostgreSQL, where the control half
// saved them.
func (db *DB) SetRecordingSettings(_ context.Context, _ int64, s store.RecordingSettings) (store.RecordingSettings, error) {
	return s, nil
}

// Versions implements store.Changes: the counters are PostgreSQL's
// (pgstore's change_counters), moved in each change's transaction and
// read by the control half; the composite adds these, which stay zero.
func (db *DB) Versions(int64, int64) store.Versions { return store.Versions{} }

// now is the store's clock, in UTC to the microsecond.
func (db *DB) now() time.Time { return db.opts.Now().UTC().Truncate(time.Microsecond) }
