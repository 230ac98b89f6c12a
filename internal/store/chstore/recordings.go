package chstore

// recordingTables are the recordings' index, copied for the listing's
// joins with sessions and events (docs/scale-out-design.md, a): one row
// per recording and one per stored chunk, whose bytes are blobs (S3 in
// the scaled setup). The deletion outbox and the per-site settings are
// control data (PostgreSQL), not here.
//
// A recording's row changes as its chunks arrive; its version is its
// chunk count, which only grows.
func recordingTables() []table {
	return []table{
		{name: "recordings", from: "recordings", engine: "ReplacingMergeTree(version) ORDER BY (site_id, id)",
			columns: []column{
				{"site_id", "Int64", ""}, {"id", "String", ""}, {"browser_session", "String", ""},
				{"anonymous_id", "String", ""}, {"anon_hash", "Int64", ""}, {"user_id", "String", ""},
				{"user_hash", "Int64", ""}, {"created_at", "Int64", micros("created_at")},
				{"started_at", "Int64", micros("started_at")}, {"ended_at", "Int64", micros("ended_at")},
				{"chunk_count", "Int32", ""}, {"bytes_stored", "Int64", ""}, {"bytes_raw", "Int64", ""},
				{"first_seq", "Int32", ""}, {"first_url", "String", ""}, {"pages", "Array(String)", ""},
				{"version", "UInt64", "chunk_count"},
				// A deleted recording's last version: set, with a
				// version above any chunk count's.
				{"deleted", "UInt8", "0"},
			}},
		// duckstore's chunk rows name only their recording; the site is
		// copied beside them so that a site's chunks can be counted and
		// deleted without a join.
		{name: "recording_chunks", from: "recording_chunks",
			engine: "ReplacingMergeTree ORDER BY (site_id, recording_id, seq)",
			columns: []column{
				{"site_id", "Int64", "coalesce((SELECT r.site_id FROM recordings r WHERE r.id = recording_chunks.recording_id), 0)"},
				{"recording_id", "String", ""}, {"seq", "Int32", ""},
				{"started_at", "Int64", micros("started_at")}, {"ended_at", "Int64", micros("ended_at")},
				{"events", "Int32", ""}, {"bytes_stored", "Int64", ""}, {"bytes_raw", "Int64", ""},
				{"received_at", "Int64", micros("received_at")},
			}},
	}
}
