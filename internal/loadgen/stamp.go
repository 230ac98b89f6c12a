package loadgen

import (
	"math/rand/v2"
	"time"
)

// A Stamper makes a pre-rendered Body ready to send: it gives every message
// a new unique messageId, a user drawn at random and the current time. It is
// not safe for concurrent use; give each worker its own.
type Stamper struct {
	nonce  uint64
	worker uint64
	seq    uint64
	users  int
	width  int
	rng    *rand.Rand
	digits []byte
}

// seqBits is how many low bits of a messageId count messages; the bits above
// them name the worker.
const seqBits = 48

// NewStamper returns a Stamper for worker number worker (below 65536).
// Message IDs are nonce, worker and a counter, so they are unique within a
// run and, with a random nonce, across runs. Users are drawn from
// [0, mix.Users) with a generator seeded by seed.
func NewStamper(mix MessageMix, nonce uint64, worker int, seed uint64) *Stamper {
	w := mix.userDigits()
	return &Stamper{
		nonce:  nonce,
		worker: uint64(worker) << seqBits,
		users:  max(mix.Users, 1),
		width:  w,
		rng:    rand.New(rand.NewPCG(seed, uint64(worker))),
		digits: make([]byte, w),
	}
}

// Stamp rewrites every slot of b in place, with timestamps and sentAt set to
// now.
func (s *Stamper) Stamp(b *Body, now time.Time) {
	// AppendFormat may need more room than the result while it works: a
	// roomy buffer keeps it from allocating.
	var buf [64]byte
	ts := now.UTC().AppendFormat(buf[:0], timeLayout)
	if len(ts) != timeLen {
		// Years outside 0000-9999 do not fit the slot; keep the old time.
		ts = nil
	}
	cur, user := int32(-2), 0
	for _, sl := range b.slots {
		if sl.msg != cur && sl.msg >= 0 {
			cur, user = sl.msg, s.rng.IntN(s.users)
			s.putDigits(user)
		}
		dst := b.buf[sl.off:]
		switch sl.kind {
		case slotMessageID:
			putUUID(dst, s.nonce, s.worker|s.seq&(1<<seqBits-1))
			s.seq++
		case slotTime:
			if ts != nil {
				copy(dst, ts)
			}
		case slotUserDigits:
			copy(dst, s.digits)
		case slotAnonymousID:
			hi, lo := anonymousID(user)
			putUUID(dst, hi, lo)
		}
	}
}

// putDigits writes user, zero-padded, into s.digits.
func (s *Stamper) putDigits(user int) {
	for i := len(s.digits) - 1; i >= 0; i-- {
		s.digits[i] = byte('0' + user%10)
		user /= 10
	}
}

// anonymousID returns the 128 bits of the anonymousId of user number user.
// It is the same in every run, so a device keeps its ID, and it is shaped
// like a version 4 UUID, as analytics.js makes them.
func anonymousID(user int) (hi, lo uint64) {
	hi = splitmix64(uint64(user) ^ 0x616e6f6e)
	lo = splitmix64(hi ^ uint64(user))
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	return hi, lo
}

// splitmix64 is a fast 64-bit mixer (Steele, Lea and Flood).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
