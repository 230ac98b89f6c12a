package duckstore

import (
	"encoding/binary"
	"hash/fnv"
)

// Identity kinds as stored in identities.kind.
const (
	idUser  uint8 = 1
	idAnon  uint8 = 2
	idGroup uint8 = 3
)

// idHash is the stored 64-bit hash of an external ID within its site and
// kind, as a signed integer because database/sql takes no uint64 with the
// high bit set. It must never change: it is on disk.
func idHash(site int64, kind uint8, id string) int64 {
	h := fnv.New64a()
	var b [9]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(site))
	b[8] = kind
	h.Write(b[:])
	h.Write([]byte(id))
	return int64(h.Sum64())
}

// messageHash keys the dedupe window.
func messageHash(site int64, messageID string) uint64 {
	return uint64(idHash(site, 0, messageID))
}
