package admit_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/admit"
	"github.com/sightline/sightline/internal/apierr"
)

// pacedServer reads each body through l and answers 200 with the bytes
// read, or the error; after the body it waits hold, then reports whether
// the request's context was still alive.
func pacedServer(t *testing.T, l admit.BodyLimits, hold time.Duration) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = l.Body(w, r)
		b, err := io.ReadAll(r.Body)
		if err != nil {
			apierr.Write(w, slog.New(slog.DiscardHandler), err)
			return
		}
		time.Sleep(hold)
		apierr.WriteJSON(w, http.StatusOK, map[string]any{"bytes": len(b), "ctx": fmt.Sprint(r.Context().Err())})
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// trickle posts a body of length bytes, declared up front, sending step
// bytes every every; it stops sending after stopAfter bytes. It returns
// the answer's status line and body, and how long the answer took.
func trickle(t *testing.T, addr string, length, step, stopAfter int, every time.Duration) (string, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", length)
	answered := make(chan string, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		answered <- resp.Status + " " + strings.TrimSpace(string(b))
	}()
	sent := 0
	for sent < min(length, stopAfter) {
		n := min(step, length-sent, stopAfter-sent)
		if _, err := conn.Write(bytes.Repeat([]byte("x"), n)); err != nil {
			break
		}
		sent += n
		select {
		case a := <-answered:
			return a, time.Since(start)
		case <-time.After(every):
		}
	}
	select {
	case a := <-answered:
		return a, time.Since(start)
	case <-time.After(10 * time.Second):
		t.Fatal("no answer within 10 s")
		return "", 0
	}
}

func TestPacedBody(t *testing.T) {
	tests := []struct {
		name                    string
		limits                  admit.BodyLimits
		length, step, stopAfter int
		every                   time.Duration
		want                    string
		after, before           time.Duration // when the answer comes
	}{
		{"headers and a byte, then nothing", admit.BodyLimits{Timeout: 5 * time.Second, Grace: 300 * time.Millisecond, MinRate: 1000},
			100, 1, 1, 10 * time.Millisecond, "408 Request Timeout", 250 * time.Millisecond, 2 * time.Second},
		{"steady above the rate, past the grace", admit.BodyLimits{Timeout: 5 * time.Second, Grace: 200 * time.Millisecond, MinRate: 1000},
			1600, 100, 1 << 30, 50 * time.Millisecond, "200 OK", 600 * time.Millisecond, 3 * time.Second},
		{"steady below the rate", admit.BodyLimits{Timeout: 5 * time.Second, Grace: 200 * time.Millisecond, MinRate: 1000},
			5000, 10, 1 << 30, 50 * time.Millisecond, "408 Request Timeout", 200 * time.Millisecond, 2 * time.Second},
		{"a fast start, then a stall, without a rate", admit.BodyLimits{Timeout: 500 * time.Millisecond},
			5000, 1000, 1000, 10 * time.Millisecond, "408 Request Timeout", 450 * time.Millisecond, 3 * time.Second},
		{"all at once", admit.DefaultBodyLimits(), 10_000, 10_000, 1 << 30, 0, "200 OK", 0, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := pacedServer(t, tt.limits, 0)
			got, took := trickle(t, addr, tt.length, tt.step, tt.stopAfter, tt.every)
			if !strings.HasPrefix(got, tt.want) || took < tt.after || took > tt.before {
				t.Fatalf("got %q after %v; want %q between %v and %v", got, took, tt.want, tt.after, tt.before)
			}
			if strings.HasPrefix(got, "408") && !strings.Contains(got, `"body_timeout"`) {
				t.Fatalf("408 without its code: %q", got)
			}
		})
	}
}

// TestPacedBodyLeavesTheRequestAlive checks that the deadline set while
// reading does not end the request once the body is in: the server reads
// on in the background after the body, and a deadline left behind would
// cancel the request's context in the middle of its work.
func TestPacedBodyLeavesTheRequestAlive(t *testing.T) {
	addr := pacedServer(t, admit.BodyLimits{Timeout: 200 * time.Millisecond, Grace: 100 * time.Millisecond, MinRate: 1000}, 600*time.Millisecond)
	got, _ := trickle(t, addr, 50, 50, 50, 0)
	if !strings.HasPrefix(got, "200 OK") || !strings.Contains(got, `"ctx":"<nil>"`) {
		t.Fatalf("got %q", got)
	}
}

// TestPacedBodyClosesAfterTimeout checks that a body timeout closes the
// connection, so the client cannot go on with another request on it.
func TestPacedBodyClosesAfterTimeout(t *testing.T) {
	addr := pacedServer(t, admit.BodyLimits{Grace: 100 * time.Millisecond, MinRate: 1000}, 0)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nx")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
		t.Fatalf("status %d, Connection %q", resp.StatusCode, resp.Header.Get("Connection"))
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the 408 the connection gave %v, want EOF", err)
	}
}

// BenchmarkPacedBody measures what pacing adds to reading a 64 KiB body
// from a real connection, against reading it bare.
func BenchmarkPacedBody(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 64<<10)
	for _, paced := range []bool{false, true} {
		b.Run(fmt.Sprintf("paced=%v", paced), func(b *testing.B) {
			l := admit.DefaultBodyLimits()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if paced {
					r.Body = l.Body(w, r)
				}
				io.Copy(io.Discard, r.Body)
			}))
			defer srv.Close()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				resp, err := http.Post(srv.URL, "text/plain", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
