package duckstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// swapConnector is the connection pool's connector. It hands out
// connections of the DuckDB database currently open, and lets that
// database be replaced under a running server (a user's erasure rewrites
// the file): the pool, and every *sql.DB handed to other packages, stays
// the same, and no read fails. A swap blocks new connections, closes the
// idle ones, waits until every connection in use is given back, then
// closes the old database and opens the new one.
type swapConnector struct {
	mu      sync.Mutex
	cur     *duckdb.Connector
	open    int           // connections of cur not yet closed
	gate    chan struct{} // non-nil while swapping: closed when the swap ends
	drained chan struct{} // non-nil while swapping: closed when open reaches 0
}

var _ driver.Connector = (*swapConnector)(nil)

func newSwapConnector(dsn string) (*swapConnector, error) {
	c, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, err
	}
	return &swapConnector{cur: c}, nil
}

// Connect implements driver.Connector; while a swap runs it waits for the
// new database.
func (s *swapConnector) Connect(ctx context.Context) (driver.Conn, error) {
	for {
		s.mu.Lock()
		if s.gate == nil {
			break
		}
		gate := s.gate
		s.mu.Unlock()
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	cur := s.cur
	s.open++
	s.mu.Unlock()
	conn, err := cur.Connect(ctx)
	if err != nil {
		s.closed()
		return nil, err
	}
	return &swapConn{Conn: conn.(*duckdb.Conn), s: s}, nil
}

// Driver implements driver.Connector.
func (s *swapConnector) Driver() driver.Driver { return duckdb.Driver{} }

// Close closes the current database; database/sql calls it when the pool
// closes.
func (s *swapConnector) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.Close()
}

func (s *swapConnector) closed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open--
	if s.open == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
}

// errBusyReaders says a swap gave up waiting for connections in use.
var errBusyReaders = errors.New("connections still in use")

// quiesce blocks new connections, lets release close the idle ones, and
// waits (at most wait) until no connection of the current database is
// open. On success the caller must call resume, with the new database or
// nil to keep the current one; on failure new connections are let through
// again.
func (s *swapConnector) quiesce(ctx context.Context, wait time.Duration, release func()) error {
	s.mu.Lock()
	if s.gate != nil {
		s.mu.Unlock()
		return errors.New("BUG: concurrent database swaps")
	}
	s.gate = make(chan struct{})
	var drained chan struct{}
	if s.open > 0 {
		drained = make(chan struct{})
		s.drained = drained
	}
	s.mu.Unlock()
	release()
	if drained == nil {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-drained:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	n := s.open
	s.mu.Unlock()
	if n == 0 {
		return nil
	}
	s.resume(nil)
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("%w: %d after %s", errBusyReaders, n, wait)
}

// resume ends a swap: next is the database new connections go to (nil:
// the current one).
func (s *swapConnector) resume(next *duckdb.Connector) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if next != nil {
		s.cur = next
	}
	s.drained = nil
	close(s.gate)
	s.gate = nil
}

// current returns the database connections go to; only while quiesced
// may the caller close it.
func (s *swapConnector) current() *duckdb.Connector {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// swapConn is a DuckDB connection that tells its connector when it
// closes. Code that needs the DuckDB connection itself (appenders) takes
// it with duckConn.
type swapConn struct {
	*duckdb.Conn
	s    *swapConnector
	once sync.Once
}

// Close implements driver.Conn.
func (c *swapConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.s.closed)
	return err
}

// duckConn returns the DuckDB connection under a connection of the pool,
// for appenders.
func duckConn(dc any) driver.Conn {
	if c, ok := dc.(*swapConn); ok {
		return c.Conn
	}
	return dc.(driver.Conn)
}
