package duckstore

import (
	"sync/atomic"

	"github.com/sightline/sightline/internal/store"
)

var _ store.Changes = (*DB)(nil)

// userBuckets is how many counters of each kind (profile, activity) the
// users share: 2^16 counters of 8 bytes, 512 KiB a kind. A change of one
// user also moves the counter of the users hashed beside it, about one in
// 65,536, which only costs them a cache entry.
const userBuckets = 1 << 16

// versions counts committed changes of the data segments read (see
// store.Versions). The counters move after a change is committed and
// before the writer lets readers see it: the applier bumps them before it
// advances the applied log position that Sync waits for; other writes bump
// them before they return.
type versions struct {
	profile  [userBuckets]atomic.Uint64
	activity [userBuckets]atomic.Uint64
	site     atomic.Uint64
	surveys  atomic.Uint64
}

// bucket picks the counter of a user key. Entity keys are unique across
// sites, so the key alone names the user.
func bucket(user int64) int {
	x := uint64(user) * 0x9e3779b97f4a7c15 // Fibonacci hashing spreads consecutive keys
	return int(x >> (64 - 16))
}

func (v *versions) profileOf(key int64)  { v.profile[bucket(key)].Add(1) }
func (v *versions) activityOf(key int64) { v.activity[bucket(key)].Add(1) }

// Versions implements store.Changes.
func (db *DB) Versions(site, user int64) store.Versions {
	v, b := db.vers, bucket(user)
	return store.Versions{Profile: v.profile[b].Load(), Activity: v.activity[b].Load(), Site: v.site.Load(),
		Surveys: v.surveys.Load()}
}

// touchBatch bumps the counters of everything a committed batch changed:
// the activity of the users of its events and sessions; the profile of
// the users of its identities, attribute values and company links; both
// for the two sides of a merge; the site counter for new attribute keys
// and changed company attributes.
func (db *DB) touchBatch(b *batch, history []attrSet) {
	v := db.vers
	for i := range b.events {
		v.activityOf(b.events[i].user)
	}
	for _, s := range b.touched {
		v.activityOf(s.user)
	}
	for _, s := range b.closed {
		v.activityOf(s.user)
	}
	for i := range b.identities {
		v.profileOf(b.identities[i].key)
	}
	for i := range b.sets {
		if b.sets[i].entity == store.EntityUser {
			v.profileOf(b.sets[i].key)
		}
	}
	for _, l := range b.links {
		v.profileOf(l[0])
	}
	for _, m := range b.merges {
		for _, k := range m {
			v.profileOf(k)
			v.activityOf(k)
		}
	}
	for i := range history {
		if history[i].entity != store.EntityUser {
			v.site.Add(1) // a company's value: any of its users may move
			break
		}
	}
	if len(b.newKeys) > 0 {
		v.site.Add(1)
	}
}
