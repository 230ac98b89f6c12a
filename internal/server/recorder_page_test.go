package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/klauspost/compress/zstd"

	"github.com/sightline/sightline/internal/store"
)

// appPage is a customer's app page for the recorder's tests: the snippet,
// a navigation bar, a table of orders, a form with a card-like number, an
// account number, a password, a name the site unmasks, text with an
// account number in it, and a suppressed element. Every path serves it;
// the heading names the path.
func appPage(sightline, writeKey string) string {
	var rows strings.Builder
	for i := range 30 {
		fmt.Fprintf(&rows, `<tr><td>#%d</td><td>Customer %d</td><td>%d.%02d €</td><td><span class="status s%d">%s</span></td><td><button class="open">Open</button></td></tr>`,
			1000+i, i, 20+i*7, i*13%100, i%3, []string{"paid", "pending", "refunded"}[i%3])
	}
	return `<!doctype html>
<html><head><meta charset="utf-8"><title>Orders — Test app</title>
<style>
body { margin: 0; font: 15px/1.4 system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
header { display: flex; gap: 16px; align-items: center; padding: 12px 24px; background: #1d2330; color: #fff; }
header a { color: #cfe0ff; text-decoration: none; }
main { display: grid; grid-template-columns: 1fr 340px; gap: 24px; padding: 24px; align-items: start; }
table { width: 100%; border-collapse: collapse; background: #fff; }
td, th { padding: 6px 10px; border-bottom: 1px solid #e3e6ea; text-align: left; }
.status.s0 { color: #14804a; } .status.s1 { color: #a86b00; } .status.s2 { color: #b42318; }
form { background: #fff; padding: 16px; display: grid; gap: 10px; }
label { display: grid; gap: 4px; font-size: 13px; }
input { padding: 6px 8px; border: 1px solid #c4c9d1; border-radius: 4px; font: inherit; }
button { padding: 6px 12px; border-radius: 4px; border: 1px solid #8a93a3; background: #fff; }
.saved { color: #14804a; }
</style>
<script>
` + catchPageErrors + `
(function (w, d, s) {
  w.sightline = w.sightline || function () { (w.sightline.q = w.sightline.q || []).push(arguments) };
  s = d.createElement('script'); s.async = 1; s.src = '` + sightline + `/t/sightline.js'; d.head.appendChild(s);
})(window, document);
sightline('init', '` + writeKey + `', {debug: true});
</script></head>
<body>
<header><strong>Test app</strong>
<a id="nav-orders" href="/app/orders">Orders</a> <a id="nav-billing" href="/app/billing">Billing</a> <a id="nav-settings" href="/app/settings">Settings</a></header>
<main>
<section>
<h1 id="title">Quarterly orders</h1>
<p id="page-path"></p>
<p id="account-text">Invoices go to account 987654321098 every month.</p>
<div data-sl-suppress id="salary">Salary: TopSecretSalary</div>
<div data-hj-suppress id="hj"><p>Migrated from the hosted tool: <b>HiddenFromHotjar</b></p></div>
<table id="orders"><thead><tr><th>Order</th><th>Customer</th><th>Total</th><th>Status</th><th></th></tr></thead>
<tbody>` + rows.String() + `</tbody></table>
</section>
<form id="pay" onsubmit="event.preventDefault(); document.getElementById('result').textContent = 'Saved';">
<label>Card number <input id="card" name="card" inputmode="numeric"></label>
<label>Account number <input id="account" name="account"></label>
<label>Password <input id="password" name="password" type="password"></label>
<label>Name on the card <input id="name" name="name" data-sl-unmask></label>
<label>Notes <textarea id="notes" name="notes"></textarea></label>
<button id="save" type="submit">Save</button>
<p id="result" class="saved"></p>
</form>
</main>
<script>
document.getElementById('page-path').textContent = 'You are on ' + location.pathname;
// "Open" shows the order's details under its row, and hides them again.
document.getElementById('orders').addEventListener('click', function (e) {
  if (!e.target.classList.contains('open')) return;
  var row = e.target.closest('tr'), next = row.nextElementSibling;
  if (next && next.className === 'detail') { next.remove(); return; }
  var d = document.createElement('tr'); d.className = 'detail';
  d.innerHTML = '<td colspan="5">Shipped in 2 parcels · ' + row.children[1].textContent + ' · paid by card</td>';
  row.after(d);
});
</script>
</body></html>`
}

// What the recorder tests type, and what must never be stored.
const (
	typedCard     = "4242 4242 4242 4242"
	typedAccount  = "123456789012"
	typedPassword = "hunter2-Secret!"
	typedName     = "Ada Lovelace"
	typedNotes    = "call me at 555123456789"
	shownAccount  = "987654321098" // in the page's text
	suppressed    = "TopSecretSalary"
	hjSuppressed  = "HiddenFromHotjar"
)

// secrets are byte strings that must not appear in anything stored.
var secrets = []string{typedCard, strings.ReplaceAll(typedCard, " ", ""), typedAccount, typedPassword, shownAccount,
	"555123456789", suppressed, hjSuppressed}

// storedBlobs reads and decompresses every recording blob under the data
// folder: what is on disk, whatever the API makes of it.
func (s *recServer) storedBlobs(t *testing.T) []byte {
	t.Helper()
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var all []byte
	for _, f := range s.blobFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := dec.DecodeAll(b, nil)
		if err != nil {
			t.Fatalf("%s is not zstd: %v", filepath.Base(f), err)
		}
		all = append(append(all, raw...), '\n')
	}
	return all
}

// recordingEvents reads a recording's rrweb events through the API.
func (s *testServer) recordingEvents(t *testing.T, id string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/sites/"+s.site+"/recordings/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens[store.ScopeRead])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("events of %s: %s %s", id, resp.Status, b)
	}
	return b
}

// digitRun is the recorder's rule: 9 or more digits, one space, dot or
// dash allowed between two.
var digitRun = regexp.MustCompile(`\d(?:[ .-]?\d){8,}`)

// pageTexts collects the texts and values a recording holds: every
// textContent, value and text of its events (not timestamps and IDs,
// which are long numbers of the recorder's own).
func pageTexts(t *testing.T, events []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(events, &v); err != nil {
		t.Fatalf("events: %v in %.200s", err, events)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && (k == "textContent" || k == "value" || k == "text") {
					out = append(out, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// checkPrivate fails when what was stored holds a secret or a digit run,
// or misses the unmasked name.
func checkPrivate(t *testing.T, where string, b []byte, texts []string) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("%s holds %q", where, s)
		}
	}
	if !bytes.Contains(b, []byte(typedName)) {
		t.Errorf("%s misses the unmasked name %q", where, typedName)
	}
	for _, s := range texts {
		if m := digitRun.FindString(s); m != "" {
			t.Errorf("%s holds the digit run %q in %.80q", where, m, s)
		}
	}
}

// waitRecorder waits until the recorder chunk runs in the page.
func waitRecorder(t *testing.T, b context.Context) {
	t.Helper()
	run(t, b, "the recorder", chromedp.Poll[chromedp.Void](`window.__slRecorder === 1`, chromedp.WithPollingTimeout(10*time.Second)))
}
