package duckstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/attr"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// poisoned marks the messages the test database refuses.
func poisoned(m *store.Message) bool { return strings.HasSuffix(m.MessageID, "-poison") }

// invalidText returns m with bytes that are not UTF-8 in a field chosen
// at random. Ingestion refuses such messages; the store must too.
func invalidText(r *rand.Rand, m store.Message) store.Message {
	bad := string([]byte{'x', byte(0x80 + r.IntN(0x40)), byte(0xc0 + r.IntN(0x20))})
	switch r.IntN(9) {
	case 0:
		m.Properties = `{"k":"` + bad + `"}`
	case 1:
		m.Name = bad
	case 2:
		m.Page.URL = bad
	case 3:
		m.Context.Locale = bad
	case 4:
		m.Context.UTMCampaign = bad
	case 5:
		m.Page.Title = bad
	case 6:
		m.Kind = store.KindIdentify
		m.Traits = []attr.Pair{{Key: "k" + bad, Raw: "v"}}
	case 7:
		m.UserID = bad
	default:
		m.Kind = store.KindIdentify
		m.Traits = []attr.Pair{{Key: "plan", Raw: "v" + bad}}
	}
	return m
}

// messages makes n messages of a few users, about one in five of them
// refused by the test database (their IDs end in -poison).
func messages(r *rand.Rand, site int64, prefix string, n int) (msgs []store.Message, refused int) {
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		if r.IntN(5) == 0 {
			id += "-poison"
			refused++
		}
		m := page(site, fmt.Sprintf("a%d", r.IntN(5)), "", id, "/p", t0.Add(time.Duration(i)*time.Second))
		switch r.IntN(3) {
		case 0:
			m.Kind, m.Name, m.Properties = store.KindTrack, "e", `{"n":1}`
		case 1:
			m.Kind, m.UserID = store.KindIdentify, fmt.Sprintf("u%d", r.IntN(3))
			m.Traits = []attr.Pair{{Key: "plan", Raw: []string{"free", "pro"}[r.IntN(2)]}}
		}
		msgs = append(msgs, m)
	}
	return msgs, refused
}

// accounted checks that every acknowledged message is either stored once
// or quarantined once, never both and never lost.
func accounted(t *testing.T, db *duckstore.DB, ids []string) (stored, quarantined int) {
	t.Helper()
	count := func(q string) map[string]int {
		rows, err := db.SQL().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				t.Fatal(err)
			}
			out[id] = n
		}
		return out
	}
	ev := count("SELECT message_id, count(*) FROM events GROUP BY 1")
	qu := count("SELECT message_id, count(*) FROM quarantine GROUP BY 1")
	for _, id := range ids {
		switch e, q := ev[id], qu[id]; {
		case e == 1 && q == 0:
			stored++
		case e == 0 && q == 1:
			quarantined++
		default:
			t.Errorf("message %s: stored %d times, quarantined %d times", id, e, q)
		}
	}
	return stored, quarantined
}

func TestRefusedMessagesAreQuarantinedAndTheRestApplied(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.duckdb")
	openRefusing := func() *duckstore.DB {
		db, err := duckstore.Open(ctx, path, duckstore.Refusing(duckstore.Options{MemoryLimit: "256MB", Threads: 2, SyncWait: time.Minute},
			poisoned), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := openRefusing()
	site := newSite(t, db)
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(1, seed))
	t.Logf("seed %d", seed)
	var ids []string
	refused := 0
	// Live: several writes, each a log record the applier may join.
	for w := range 6 {
		msgs, p := messages(r, site.ID, fmt.Sprintf("live%d", w), 1+r.IntN(40))
		refused += p
		write(t, db, msgs...)
		for _, m := range msgs {
			ids = append(ids, m.MessageID)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.Sync(sctx); err != nil {
		t.Fatalf("Sync after poisoned writes: %v", err)
	}
	stored, quarantined := accounted(t, db, ids)
	t.Logf("live: %d messages, %d refused: %d stored, %d quarantined", len(ids), refused, stored, quarantined)
	if quarantined != refused {
		t.Errorf("quarantined %d messages; the database refused %d", quarantined, refused)
	}
	if h := db.Health(); h.Quarantined != int64(quarantined) || h.ApplyError != "" || h.Lag != 0 {
		t.Errorf("Health = %+v, want %d quarantined, no error, no lag", h, quarantined)
	}
	qs, err := db.QuarantinedMessages(ctx, site.ID, 1000, 0)
	if err != nil || len(qs) != quarantined {
		t.Fatalf("QuarantinedMessages = %d, %v; want %d", len(qs), err, quarantined)
	}
	if qs[0].Reason == "" || len(qs[0].Message) == 0 {
		t.Errorf("a quarantined message without reason or body: %+v", qs[0])
	}

	// Replay: the poisoned messages are only in the log when the store
	// stops; the next start applies the rest and sets them aside.
	db.PauseApplier()
	msgs, p := messages(r, site.ID, "replay", 60)
	refused += p
	write(t, db, msgs...)
	for _, m := range msgs {
		ids = append(ids, m.MessageID)
	}
	db.Crash()
	db = openRefusing()
	defer db.Close()
	if err := db.Sync(sctx); err != nil {
		t.Fatal(err)
	}
	stored, quarantined = accounted(t, db, ids)
	t.Logf("after replay: %d messages, %d refused: %d stored, %d quarantined", len(ids), refused, stored, quarantined)
	if quarantined != refused {
		t.Errorf("quarantined %d messages; the database refused %d", quarantined, refused)
	}
	// A retry of everything is answered as duplicates, quarantined or not.
	for _, o := range write(t, db, msgs...) {
		if !o.Duplicate {
			t.Fatal("a retried message was not a duplicate")
		}
	}
}

// TestTextThatIsNotUTF8IsRefusedAtWrite: such text must never reach the
// database (its driver crashes binding it in a list): the store refuses
// the message, logs nothing of it and keeps working.
func TestTextThatIsNotUTF8IsRefusedAtWrite(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "s.duckdb"))
	defer db.Close()
	site := newSite(t, db)
	r := rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))
	var good []string
	for i := range 200 {
		m := page(site.ID, "a1", "", fmt.Sprintf("m%d", i), "/p", t0.Add(time.Duration(i)*time.Second))
		bad := r.IntN(2) == 0
		if bad {
			m = invalidText(r, m)
		}
		out := write(t, db, m)
		if (out[0].Refused != nil) != bad {
			t.Fatalf("message %d (bad %v): outcome %+v", i, bad, out[0])
		}
		if !bad {
			good = append(good, m.MessageID)
		}
	}
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if stored, quarantined := accounted(t, db, good); stored != len(good) || quarantined != 0 {
		t.Errorf("%d of %d good messages stored, %d quarantined", stored, len(good), quarantined)
	}
}
