package duckstore

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// The dedupe window is saved at a clean close, so that the next open
// reads 8 bytes a message ID instead of finding the newest million IDs
// among all the events (seconds at tens of millions of events). The file
// holds the log position the database had applied when it was written; an
// open uses it only when the database is at that position and the log had
// nothing to replay, and removes it before any write, so that a file can
// never describe a database that changed after it (a crash, a bulk load,
// a newer binary's writes).
const dedupeMagic = "SLDEDUP1"

// dedupeFile is where the dedupe window of the database at path is saved.
func dedupeFile(path string) string { return path + ".dedupe" }

// saveDedupe writes the window, oldest hash first, with the applied log
// position, through a temporary file renamed into place.
func saveDedupe(path string, lsn uint64, d *dedupe) error {
	tmp := dedupeFile(path) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	var head [24]byte
	copy(head[:8], dedupeMagic)
	binary.LittleEndian.PutUint64(head[8:], lsn)
	binary.LittleEndian.PutUint64(head[16:], uint64(len(d.ring)))
	w.Write(head[:])
	var b [8]byte
	for i := range d.ring {
		binary.LittleEndian.PutUint64(b[:], d.ring[(d.next+i)%len(d.ring)])
		w.Write(b[:])
	}
	err = errors.Join(w.Flush(), f.Sync(), f.Close())
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dedupeFile(path))
}

// takeDedupe reads and removes the window saved for the database at path
// and returns it with the log position it was saved at; ok is false when
// there is none. A file that cannot be read is removed and reported.
func takeDedupe(path string, size int) (d *dedupe, lsn uint64, ok bool, err error) {
	name := dedupeFile(path)
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, err
	}
	defer func() {
		f.Close()
		if rerr := os.Remove(name); rerr != nil && err == nil {
			// A file that stays could describe a later database.
			d, ok, err = nil, false, fmt.Errorf("remove the saved dedupe window: %w", rerr)
		}
	}()
	r := bufio.NewReaderSize(f, 1<<16)
	var head [24]byte
	if _, err := io.ReadFull(r, head[:]); err != nil || string(head[:8]) != dedupeMagic {
		return nil, 0, false, fmt.Errorf("read the saved dedupe window: not a dedupe window file")
	}
	lsn = binary.LittleEndian.Uint64(head[8:])
	n := binary.LittleEndian.Uint64(head[16:])
	if st, err := f.Stat(); err != nil || uint64(st.Size()) != 24+8*n {
		return nil, 0, false, fmt.Errorf("read the saved dedupe window: the file is not %d hashes long", n)
	}
	d = newDedupe(size)
	var b [8]byte
	for i := uint64(0); i < n; i++ {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, 0, false, fmt.Errorf("read the saved dedupe window: %w", err)
		}
		// When the window is smaller than the file's, the oldest fall
		// out of the ring as the newest are added.
		d.add(binary.LittleEndian.Uint64(b[:]))
	}
	return d, lsn, true, nil
}
