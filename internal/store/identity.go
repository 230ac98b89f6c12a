package store

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
)

// Identity kinds as every backend stores them (identities.kind). Their
// numeric values are stored and must not change.
const (
	IDUser      uint8 = 1
	IDAnonymous uint8 = 2
	IDGroup     uint8 = 3
)

// IdentityKind returns the stored kind that an Identity's Kind names
// ("user" or empty, "anonymous", "group"), or an error wrapping
// ErrInvalid.
func IdentityKind(s string) (uint8, error) {
	switch s {
	case "user", "":
		return IDUser, nil
	case "anonymous":
		return IDAnonymous, nil
	case "group":
		return IDGroup, nil
	}
	return 0, fmt.Errorf("identity kind %q (want user, anonymous or group): %w", s, ErrInvalid)
}

// IDHash is the stored 64-bit hash of an external ID within its site and
// kind (FNV-1a of the site, the kind and the ID), as a signed integer
// because database/sql takes no uint64 with the high bit set. It must
// never change: duckstore's identities and recordings, and ClickHouse's
// copies of them, keep it.
func IDHash(site int64, kind uint8, id string) int64 {
	h := fnv.New64a()
	var b [9]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(site))
	b[8] = kind
	h.Write(b[:])
	h.Write([]byte(id))
	return int64(h.Sum64())
}
