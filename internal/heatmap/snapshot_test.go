package heatmap

import (
	"strings"
	"testing"
)

// TestSnapshotShadowRoot: an open shadow root the recorder serialised
// (its nodes marked isShadow under a host marked isShadowHost) is written
// as declarative shadow DOM, apart from the host's own children, and a
// script inside it is dropped like any other.
func TestSnapshotShadowRoot(t *testing.T) {
	node := `{"type":0,"childNodes":[{"type":2,"tagName":"html","attributes":{},"childNodes":[
		{"type":2,"tagName":"body","attributes":{},"childNodes":[
			{"type":2,"tagName":"fern-cart","attributes":{"id":"cart"},"isShadowHost":true,"childNodes":[
				{"type":2,"tagName":"button","attributes":{"id":"checkout"},"isShadow":true,"childNodes":[{"type":3,"textContent":"Check out"}]},
				{"type":2,"tagName":"script","attributes":{},"isShadow":true,"childNodes":[{"type":3,"textContent":"alert(1)"}]},
				{"type":2,"tagName":"span","attributes":{"slot":"x"},"childNodes":[{"type":3,"textContent":"light"}]}]}]}]}]}`
	out, err := SnapshotHTML(&Snapshot{Href: "https://shop.example.com/cart", Node: []byte(node)})
	if err != nil {
		t.Fatal(err)
	}
	want := `<fern-cart id="cart"><template shadowrootmode="open"><button id="checkout">Check out</button></template><span slot="x">light</span></fern-cart>`
	if !strings.Contains(string(out), want) {
		t.Errorf("got %s\nwant it to contain %s", out, want)
	}
	if strings.Contains(string(out), "alert") {
		t.Errorf("a script survived: %s", out)
	}
}
