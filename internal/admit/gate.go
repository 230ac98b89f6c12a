// Package admit decides which requests that carry data get in, and how
// long they may take: a gate of concurrent slots with a cap per client
// address, and request bodies read against a deadline and a minimum rate.
// Together they keep slow or greedy clients from starving the others: a
// client that sends its headers and then trickles its body holds a slot for
// seconds, not for as long as it likes, and one address holds only its
// share of the slots.
package admit

import (
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/enrich"
)

// Client is the address a request is counted under: the client IP as
// enrich.ClientIP finds it (the peer, or with trustProxy the first
// X-Forwarded-For entry), and for IPv6 its /64, which one host or household
// typically holds whole. A request without a readable address counts under
// the zero Prefix, which all such requests share.
func Client(r *http.Request, trustProxy bool) netip.Prefix {
	ip := enrich.ClientIP(r.RemoteAddr, "", trustProxy, r.Header.Get("X-Forwarded-For"))
	if !ip.IsValid() {
		return netip.Prefix{}
	}
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// Gate hands out a fixed number of slots, at most PerClient of them to one
// client address. It never makes a request wait: when no slot is free it
// refuses at once, so that the client retries later rather than holding a
// connection open.
type Gate struct {
	size, perClient int
	what            string
	mu              sync.Mutex
	used            int
	clients         map[netip.Prefix]int
}

// NewGate returns a gate of size slots, at most perClient of them (at least
// 1, at most size) for one client. what names the requests in refusals:
// "ingestion requests", "recording chunks".
func NewGate(size, perClient int, what string) *Gate {
	size = max(size, 1)
	if perClient <= 0 || perClient > size {
		perClient = size
	}
	return &Gate{size: size, perClient: perClient, what: what, clients: map[netip.Prefix]int{}}
}

// Slot is a slot taken from a gate; Release gives it back.
type Slot struct {
	g      *Gate
	client netip.Prefix
}

// Acquire takes a slot for client. When all slots are taken it answers 429
// overloaded; when client holds its share, 429
// too_many_requests_from_client. Both carry Retry-After.
func (g *Gate) Acquire(client netip.Prefix) (Slot, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.clients[client] >= g.perClient {
		return Slot{}, &apierr.Error{Status: http.StatusTooManyRequests, Code: "too_many_requests_from_client",
			RetryAfter: time.Second, Message: fmt.Sprintf("%d %s from your address are in progress, the most one address may have; retry shortly",
				g.perClient, g.what)}
	}
	if g.used >= g.size {
		return Slot{}, &apierr.Error{Status: http.StatusTooManyRequests, Code: "overloaded", RetryAfter: time.Second,
			Message: "too many " + g.what + " are in progress; retry shortly"}
	}
	g.used++
	g.clients[client]++
	return Slot{g: g, client: client}, nil
}

// Release gives the slot back. Releasing the zero Slot does nothing.
func (s Slot) Release() {
	g := s.g
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.used--
	if n := g.clients[s.client] - 1; n > 0 {
		g.clients[s.client] = n
	} else {
		delete(g.clients, s.client)
	}
}

// InUse is how many slots are taken.
func (g *Gate) InUse() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.used
}

// DropBody marks the answer to a request whose body will not be read (a
// refusal before reading): the connection closes after it. Otherwise the
// HTTP server would first read and discard up to 256 KiB of the body,
// which a slow client sends as slowly as it likes, before the answer
// goes out.
func DropBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		w.Header().Set("Connection", "close")
	}
}

// Receiving is how many more requests than decode slots may be in the
// middle of sending their bodies: a body arriving slowly holds a place of
// its own, not a decode slot, so that slow senders, even from many
// addresses, cannot keep a normal client from its turn.
const Receiving = 16

// NewReceivers returns the gate of requests sending their bodies, for a
// handler of size decode slots, perClient of them for one client: its size
// is Receiving times as many, and a client's share Receiving/4 times its
// share of decode slots.
func NewReceivers(size, perClient int, what string) *Gate {
	size = max(size, 1)
	if perClient <= 0 || perClient > size {
		perClient = size
	}
	return NewGate(size*Receiving, perClient*Receiving/4, what+" being received")
}
