// Package auth makes and checks the secrets that let callers in: site write
// keys and API tokens. Secrets are random, shown once, and stored only as
// hashes.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewSecret returns a random secret with 160 bits of entropy, prefixed so a
// reader can tell what it is (for example "wk_" for a write key).
func NewSecret(prefix string) string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return prefix + encoding.EncodeToString(b[:])
}

// NewID returns a short random identifier with the given prefix, for public
// IDs that need no secrecy (site and token IDs).
func NewID(prefix string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return prefix + encoding.EncodeToString(b[:])
}

// Hash returns the stored form of a secret. Secrets are long and random, so a
// plain SHA-256 is enough; passwords, which are not, need a memory-hard hash
// instead.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	return hex.EncodeToString(sum[:])
}
