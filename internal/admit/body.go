package admit

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/sightline/sightline/internal/apierr"
)

// BodyLimits bound how long reading a request body may take: the whole
// of it at most Timeout, and after Grace at least MinRate bytes a second
// on average since the start (as Apache's mod_reqtimeout does with
// body=Grace,MinRate=MinRate). A client that sends its headers and then
// a byte now and then holds its connection, and the slot it took, for
// about Grace.
type BodyLimits struct {
	Timeout time.Duration // the whole body; 0: no overall limit
	Grace   time.Duration // before MinRate applies
	MinRate int64         // bytes a second after Grace; 0: no rate
}

// DefaultBodyLimits returns the limits used when none are configured: 30
// s for a body, 4 KiB/s after 5 s. A browser on a slow mobile link (tens of
// KB/s up) sends a tracker batch in well under a second and a typical
// recording chunk in a few.
func DefaultBodyLimits() BodyLimits {
	return BodyLimits{Timeout: 30 * time.Second, Grace: 5 * time.Second, MinRate: 4 << 10}
}

// ErrBodyTimeout is the error a paced body's Read returns when the body
// came too slowly; readers pass it on as it is (408 body_timeout).
var ErrBodyTimeout = &apierr.Error{Status: http.StatusRequestTimeout, Code: "body_timeout",
	Message: "the request body came too slowly; send it at once"}

// Body returns r's body paced by l: each Read sets the connection's read
// deadline to the time by which the body must have got as far as it has,
// so a client that stops sending is cut off by the server's poller rather
// than by a timer. Reading past the deadline fails with ErrBodyTimeout, and
// the answer then closes the connection. Once the body has been read
// whole, the deadline is cleared so that the rest of the request is not
// cut short. Use it as r.Body before the body is read.
func (l BodyLimits) Body(w http.ResponseWriter, r *http.Request) io.ReadCloser {
	if (l.Timeout <= 0 && l.MinRate <= 0) || r.Body == nil || r.Body == http.NoBody {
		return r.Body
	}
	return &pacedBody{rc: r.Body, w: w, ctl: http.NewResponseController(w), l: l, start: time.Now()}
}

type pacedBody struct {
	rc    io.ReadCloser
	w     http.ResponseWriter
	ctl   *http.ResponseController
	l     BodyLimits
	start time.Time
	n     int64 // bytes read so far
	done  bool  // EOF or an error was seen and the deadline cleared
}

// deadline is when the body must have got past what has been read.
func (b *pacedBody) deadline() time.Time {
	var d time.Time
	if b.l.MinRate > 0 {
		d = b.start.Add(b.l.Grace + time.Duration(float64(b.n)/float64(b.l.MinRate)*float64(time.Second)))
	}
	if b.l.Timeout > 0 {
		if end := b.start.Add(b.l.Timeout); d.IsZero() || end.Before(d) {
			d = end
		}
	}
	return d
}

func (b *pacedBody) Read(p []byte) (int, error) {
	if b.done {
		return b.rc.Read(p)
	}
	d := b.deadline()
	if !time.Now().Before(d) {
		// Behind already, even if the server has the next bytes buffered.
		return 0, b.fail(ErrBodyTimeout)
	}
	// Without support for deadlines (a ResponseWriter other than the
	// HTTP/1 server's), the check above still catches a late body once a
	// read returns.
	_ = b.ctl.SetReadDeadline(d)
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if err == nil {
		return n, nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = ErrBodyTimeout
	}
	return n, b.fail(err)
}

// fail ends pacing. At the end of the body the read deadline is
// cleared: the server then reads on from the connection in the background
// (to see a client go away) and would take a deadline passing for that,
// cancelling the request's context mid-work. After any other error it
// stays, so that the server's draining of an unread rest cannot wait on
// the client either; on a timeout the answer also closes the connection.
func (b *pacedBody) fail(err error) error {
	b.done = true
	switch {
	case err == io.EOF:
		_ = b.ctl.SetReadDeadline(time.Time{})
	case err == ErrBodyTimeout:
		_ = b.ctl.SetReadDeadline(time.Now())
		b.w.Header().Set("Connection", "close")
	}
	return err
}

func (b *pacedBody) Close() error { return b.rc.Close() }
