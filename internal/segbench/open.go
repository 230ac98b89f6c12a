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
func Open(ctx context.Context, data, memory string) (*duckstore.DB, error) {
	return duckstore.Open(ctx, filepath.Join(data, "sightline.duckdb"), duckstore.Options{MemoryLimit: memory},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
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
