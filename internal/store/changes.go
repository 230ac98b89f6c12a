package store

// Versions are counters of the data a user's segment membership reads.
// Each only grows, and grows once a change is committed, before a reader
// that waits for the change (Sync, or the writing call's return) can look:
// an answer computed after reading Versions v still holds while Versions
// equal v. Counters may grow without a change that matters (several users
// share a counter), never stay put across one.
type Versions struct {
	// Profile counts changes of who a user is: attribute values,
	// identities, company links, merges on either side.
	Profile uint64
	// Activity counts changes of what a user did: events, sessions,
	// merges on either side.
	Activity uint64
	// Site counts rare changes that may move anyone: the attribute
	// catalog and its types, company attributes, saved segments, bulk
	// loads.
	Site uint64
	// Surveys counts survey responses and feedback, read by nps
	// conditions.
	Surveys uint64
}

// Changes tells readers that keep answers when the data behind them
// changed.
type Changes interface {
	// Versions returns the counters that cover the user's data on a site.
	Versions(site, user int64) Versions
}
