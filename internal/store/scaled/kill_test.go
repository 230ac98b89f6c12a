package scaled_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/scaled"
	"github.com/sightline/sightline/internal/store/storetest"
)

// childEnv makes the test binary a writer (runWriter) instead of running
// tests: it holds "CH_DSN\tPG_DSN\tWAL_DIR\tNODE\tPREFIX".
const childEnv = "SCALED_KILL_CHILD"

// runWriter opens a node and writes batches of page views until it is
// killed, printing each batch's message IDs once Write acknowledged them.
func runWriter() int {
	parts := strings.Split(os.Getenv(childEnv), "\t")
	db, err := scaled.Open(ctx, parts[0], parts[1], scaled.Options{WALDir: parts[2], Node: parts[3], MaxConns: 4})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	for b := 0; ; b++ {
		var batch []store.Message
		var ids []string
		for i := range 50 {
			id := fmt.Sprintf("%s-%d-%d", parts[4], b, i)
			at := storetest.T0.Add(time.Duration(b*50+i) * time.Second)
			batch = append(batch, page(fmt.Sprint("v", i%7), "", id, at))
			ids = append(ids, id)
		}
		if _, err := db.Write(ctx, batch); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(out, strings.Join(ids, " "))
		out.Flush()
	}
}

// TestKillLosesNothing kills a writing node (SIGKILL) at several moments
// and restarts it on the same log: every message acknowledged before the
// kill is stored, once the restarted node has replayed its log. Messages
// stored twice (the kill between ClickHouse's insert and PostgreSQL's
// commit) are counted and reported.
func TestKillLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts writer processes")
	}
	svc := newServices(t)
	ch, pg := svc.dsns(t)
	dir := t.TempDir()
	acked := map[string]bool{}
	for round := range 6 {
		prefix := fmt.Sprint("r", round)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+strings.Join([]string{ch, pg, dir, "killed", prefix}, "\t"))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		lines.Buffer(nil, 1<<20)
		want := 3 + 5*round // batches acknowledged before the kill
		for n := 0; n < want && lines.Scan(); n++ {
			for _, id := range strings.Fields(lines.Text()) {
				acked[id] = true
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		// Whatever it printed before dying was acknowledged too.
		for lines.Scan() {
			for _, id := range strings.Fields(lines.Text()) {
				acked[id] = true
			}
		}
		cmd.Wait()
		if len(acked) == 0 {
			t.Fatal("the writer acknowledged nothing")
		}
	}
	// The node restarted on its log replays what it had not applied.
	db, err := scaled.Open(ctx, ch, pg, scaled.Options{WALDir: dir, Node: "killed", MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL().QueryContext(ctx, "SELECT message_id, count() FROM events WHERE site_id = 1 GROUP BY message_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored, twice := map[string]bool{}, 0
	for rows.Next() {
		var id string
		var n uint64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		stored[id] = true
		if n > 1 {
			twice++
		}
	}
	lost := 0
	for id := range acked {
		if !stored[id] {
			lost++
		}
	}
	t.Logf("%d acknowledged, %d stored, %d lost, %d stored twice", len(acked), len(stored), lost, twice)
	if lost > 0 {
		t.Errorf("%d of %d acknowledged messages lost", lost, len(acked))
	}
	if twice > 0 {
		t.Errorf("%d messages stored twice: the rows of an unapplied group were not deleted before it was applied again", twice)
	}
	// No session without its events: a group that did not commit leaves
	// no row behind.
	var orphans uint64
	if err := db.SQL().QueryRowContext(ctx, `SELECT count() FROM sessions FINAL WHERE site_id = 1
		AND session_id NOT IN (SELECT session_id FROM events WHERE site_id = 1)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans > 0 {
		t.Errorf("%d sessions without events", orphans)
	}
}

// TestQuarantine: a message PostgreSQL refuses (a NUL byte, which UTF-8
// allows and TEXT does not) is set aside with the reason when the log is
// applied, and the rest of its batch is stored.
func TestQuarantine(t *testing.T) {
	svc := newServices(t)
	ch, pg := svc.dsns(t)
	db := open(t, ch, pg, nil)
	out, err := db.Write(ctx, []store.Message{
		page("ok-1", "", "m1", storetest.T0),
		page("bad\x00id", "", "m2", storetest.T0),
		page("ok-2", "", "m3", storetest.T0),
	})
	if err != nil || out[1].Refused != nil {
		t.Fatalf("write: %+v %v; want the NUL acknowledged (it is valid UTF-8)", out, err)
	}
	if err := db.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	q, err := db.QuarantinedMessages(ctx, 1, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || q[0].MessageID != "m2" || !strings.Contains(q[0].Reason, "0x00") {
		t.Errorf("quarantine = %+v, want m2 with PostgreSQL's reason", q)
	}
	for _, id := range []string{"ok-1", "ok-2"} {
		if u, err := db.User(ctx, 1, store.Identity{Kind: "anonymous", ID: id}); err != nil || u.Events != 1 {
			t.Errorf("%s = %+v, %v; want its event stored", id, u, err)
		}
	}
	if h := db.Health(); h.Quarantined != 1 || h.Lag != 0 || h.ApplyError != "" {
		t.Errorf("health = %+v", h)
	}
}
