// Package wal is an append-only write-ahead log: records are appended in
// groups, each group made durable with one fsync, and read back after a
// crash. Sightline acknowledges data once it is in the log and applies it to
// the database in larger batches, so the database's own commit cost is
// shared by many more messages.
//
// The log is a folder of segment files named by the first sequence number
// (LSN) they hold. Each record is framed as
//
//	length uint32 | crc32c(lsn, payload) uint32 | lsn uint64 | payload
//
// so that a torn write at the end of the last segment (a crash mid-append)
// is detected and cut off at the next open.
package wal

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

const headerSize = 16

// ErrCorrupt means a record in the middle of the log failed its checksum:
// not a torn tail, which is repaired, but damage that needs a person.
var ErrCorrupt = errors.New("wal: corrupt record")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Log is an open write-ahead log. Append is safe for concurrent use.
type Log struct {
	dir         string
	segmentSize int64

	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	size    int64
	lastLSN uint64
	first   []uint64 // first LSN of each segment, ascending; the last is open
	buf     []byte
	// uncut, when not -1, is the size the open segment must be cut back
	// to before the next append: a failed append's cut failed too.
	uncut int64
}

// Open opens the log in dir, creating it when missing, and repairs a torn
// tail. Segments are rolled over at segmentSize bytes.
func Open(dir string, segmentSize int64) (*Log, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create wal folder: %w", err)
	}
	l := &Log{dir: dir, segmentSize: segmentSize, uncut: -1}
	names, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		lsn, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(n), ".wal"), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("wal: unexpected file %s", n)
		}
		l.first = append(l.first, lsn)
	}
	sort.Slice(l.first, func(i, j int) bool { return l.first[i] < l.first[j] })
	if len(l.first) == 0 {
		return l, l.create(1)
	}
	// Find the last good record of the last segment and cut what follows.
	last := l.path(l.first[len(l.first)-1])
	end, lastLSN, err := scan(last, func(uint64, []byte) error { return nil })
	if err != nil && !errors.Is(err, errTorn) {
		return nil, err
	}
	if lastLSN == 0 {
		lastLSN = l.first[len(l.first)-1] - 1
	}
	f, err := os.OpenFile(last, os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open wal segment: %w", err)
	}
	if err := f.Truncate(end); err != nil {
		f.Close()
		return nil, fmt.Errorf("repair wal tail: %w", err)
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	l.f, l.w, l.size, l.lastLSN = f, bufio.NewWriterSize(f, 1<<20), end, lastLSN
	return l, nil
}

func (l *Log) path(first uint64) string {
	return filepath.Join(l.dir, fmt.Sprintf("%016x.wal", first))
}

// create starts a new segment whose first record will be lsn. The open
// segment, if any, is left to the caller.
func (l *Log) create(lsn uint64) error {
	f, err := os.OpenFile(l.path(lsn), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create wal segment: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		f.Close()
		os.Remove(l.path(lsn))
		return err
	}
	l.first = append(l.first, lsn)
	l.f, l.w, l.size = f, bufio.NewWriterSize(f, 1<<20), 0
	if l.lastLSN == 0 {
		l.lastLSN = lsn - 1
	}
	return nil
}

// Append writes payloads as consecutive records and makes them durable. It
// returns the LSN of the last one. When it fails (a full disk, an I/O
// error) it cuts the segment back to where it was, so that nothing of the
// failed append remains and a later Append can succeed once the cause is
// gone.
func (l *Log) Append(payloads ...[]byte) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, errors.New("wal: closed")
	}
	if l.uncut >= 0 {
		// An earlier failed append could not be cut off: nothing may be
		// appended after its remains.
		if err := l.cut(l.uncut); err != nil {
			return 0, err
		}
		l.uncut = -1
	}
	if l.size >= l.segmentSize {
		// A new segment that cannot be made leaves the open one in use:
		// segments may grow past their size, but the log keeps working.
		if err := l.roll(); err != nil {
			return 0, err
		}
	}
	size, lastLSN := l.size, l.lastLSN
	if err := l.write(payloads); err != nil {
		l.lastLSN = lastLSN
		if rerr := l.cut(size); rerr != nil {
			l.uncut = size
			return 0, errors.Join(err, rerr)
		}
		return 0, err
	}
	return l.lastLSN, nil
}

func (l *Log) write(payloads [][]byte) error {
	for _, p := range payloads {
		lsn := l.lastLSN + 1
		l.buf = frame(l.buf[:0], lsn, p)
		if _, err := l.w.Write(l.buf); err != nil {
			return fmt.Errorf("write wal: %w", err)
		}
		l.size += int64(len(l.buf))
		l.lastLSN = lsn
	}
	if err := l.w.Flush(); err != nil {
		return fmt.Errorf("write wal: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync wal: %w", err)
	}
	return nil
}

// cut drops everything after offset size of the open segment, both what
// reached the file and what the buffer holds.
func (l *Log) cut(size int64) error {
	l.w = bufio.NewWriterSize(l.f, 1<<20)
	if err := l.f.Truncate(size); err != nil {
		return fmt.Errorf("cut failed wal append: %w", err)
	}
	if _, err := l.f.Seek(size, io.SeekStart); err != nil {
		return fmt.Errorf("cut failed wal append: %w", err)
	}
	l.size = size
	return nil
}

// roll starts a new segment after the open one.
func (l *Log) roll() error {
	old, oldW, oldSize := l.f, l.w, l.size
	if err := l.create(l.lastLSN + 1); err != nil {
		l.f, l.w, l.size = old, oldW, oldSize
		return err
	}
	if err := old.Close(); err != nil {
		return fmt.Errorf("close wal segment: %w", err)
	}
	return nil
}

func frame(dst []byte, lsn uint64, payload []byte) []byte {
	var h [headerSize]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint64(h[8:16], lsn)
	crc := crc32.Update(crc32.Checksum(h[8:16], castagnoli), castagnoli, payload)
	binary.LittleEndian.PutUint32(h[4:8], crc)
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

// LastLSN returns the LSN of the last appended record (0 when none).
func (l *Log) LastLSN() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastLSN
}

// Replay calls fn for every record with an LSN above after, in order. The
// payload is only valid during the call.
func (l *Log) Replay(after uint64, fn func(lsn uint64, payload []byte) error) error {
	l.mu.Lock()
	segs := append([]uint64(nil), l.first...)
	if l.w != nil {
		if err := l.w.Flush(); err != nil {
			l.mu.Unlock()
			return err
		}
	}
	l.mu.Unlock()
	for i, first := range segs {
		if i+1 < len(segs) && segs[i+1] <= after+1 {
			continue // every record of this segment is at or below after
		}
		_, _, err := scan(l.path(first), func(lsn uint64, p []byte) error {
			if lsn <= after {
				return nil
			}
			return fn(lsn, p)
		})
		if errors.Is(err, errTorn) && i == len(segs)-1 {
			err = nil // cut off at the next Open; nothing acknowledged is there
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Remove deletes the segments whose records all have LSNs at or below
// upTo. The open segment is never removed.
func (l *Log) Remove(upTo uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.first) > 1 && l.first[1] <= upTo+1 {
		if err := os.Remove(l.path(l.first[0])); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove wal segment: %w", err)
		}
		l.first = l.first[1:]
	}
	return nil
}

// Roll closes the open segment and starts the next when the open one
// holds records, so that Remove can then delete every record up to the
// last: the open segment is never removed.
func (l *Log) Roll() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.size == 0 {
		return nil
	}
	if err := l.w.Flush(); err != nil {
		return fmt.Errorf("flush wal segment: %w", err)
	}
	return l.roll()
}

// Segments returns how many segment files the log has.
func (l *Log) Segments() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.first)
}

// probeName is the scratch file of Probe: not a segment (*.wal), so Open
// ignores one left by a crash.
const probeName = "probe.tmp"

// Probe reports whether the log's folder takes n bytes more, made
// durable, now: it writes them to a scratch file beside the segments,
// syncs it and deletes it, without touching the log. After an Append
// failed for want of space, it tells whether one of that size would fit.
// The bytes are random, so that a compressing file system cannot make
// them fit where the log's records would not.
func (l *Log) Probe(n int) error {
	path := filepath.Join(l.dir, probeName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("probe wal folder: %w", err)
	}
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	_, err = f.Write(buf)
	err = errors.Join(err, f.Sync(), f.Close(), os.Remove(path))
	if err != nil {
		return fmt.Errorf("probe wal folder: %w", err)
	}
	return nil
}

// Close closes the log.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := errors.Join(l.w.Flush(), l.f.Sync(), l.f.Close())
	l.f = nil
	return err
}

var errTorn = errors.New("wal: torn record at the end")

// scan reads a segment's records, calling fn for each, and returns the
// offset after the last good record and its LSN. A short or mismatching
// record is errTorn when nothing follows it, ErrCorrupt otherwise.
func scan(path string, fn func(lsn uint64, payload []byte) error) (int64, uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("open wal segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var off int64
	var last uint64
	var h [headerSize]byte
	var payload []byte
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return off, last, nil
			}
			return off, last, errTorn
		}
		n := int64(binary.LittleEndian.Uint32(h[0:4]))
		if off+headerSize+n > st.Size() {
			return off, last, errTorn
		}
		if cap(payload) < int(n) {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			return off, last, errTorn
		}
		lsn := binary.LittleEndian.Uint64(h[8:16])
		crc := crc32.Update(crc32.Checksum(h[8:16], castagnoli), castagnoli, payload)
		if crc != binary.LittleEndian.Uint32(h[4:8]) || (last != 0 && lsn != last+1) {
			if off+headerSize+n == st.Size() {
				return off, last, errTorn
			}
			return off, last, fmt.Errorf("%w: %s at offset %d", ErrCorrupt, path, off)
		}
		if err := fn(lsn, payload); err != nil {
			return off, last, err
		}
		off += headerSize + n
		last = lsn
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Advance makes the next record's LSN at least next, starting a new segment
// if needed. A store whose database has applied records up to some LSN
// calls it so that numbering never restarts below that point, even if the
// log folder was lost.
func (l *Log) Advance(next uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lastLSN+1 >= next {
		return nil
	}
	if err := errors.Join(l.w.Flush(), l.f.Close()); err != nil {
		return fmt.Errorf("close wal segment: %w", err)
	}
	l.lastLSN = next - 1
	return l.create(next)
}
