package segbench

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// Open opens the database of a generated data folder, as the benchmark
// tools do, with the database memory limit memory (the server's
// --db-memory).
//
// The attribute tables are put in order first if they need it, as a
// server's janitor would have done within minutes (a folder written before
// the tables were kept in order, or rewritten by Interleave).
func Open(ctx context.Context, data, memory string) (*duckstore.DB, error) {
	db, err := duckstore.Open(ctx, filepath.Join(data, "sightline.duckdb"), duckstore.Options{MemoryLimit: memory},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	if _, err := db.Cluster(ctx, false); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Site finds the site named (or with the ID) name in db, which the data
// folder data holds, for the error message.
func Site(ctx context.Context, db *duckstore.DB, data, name string) (store.Site, error) {
	if site, err := db.Site(ctx, name); err == nil {
		return site, nil
	}
	for _, s := range db.Sites(ctx) {
		if s.Name == name {
			return s, nil
		}
	}
	return store.Site{}, errors.New("no site " + name + " in " + data + "; generate it with sightline gen first")
}
