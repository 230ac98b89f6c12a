package duckstore

import "github.com/sightline/sightline/internal/store"

// Identity kinds as stored in identities.kind.
const (
	idUser  = store.IDUser
	idAnon  = store.IDAnonymous
	idGroup = store.IDGroup
)

// idHash is store.IDHash: on disk, it must never change.
func idHash(site int64, kind uint8, id string) int64 { return store.IDHash(site, kind, id) }

// messageHash keys the dedupe window.
func messageHash(site int64, messageID string) uint64 {
	return uint64(idHash(site, 0, messageID))
}
