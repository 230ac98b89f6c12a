// Command sightline-services starts a ClickHouse and a PostgreSQL server
// on loopback, each in a temporary folder (as the tests start theirs,
// with Debian's packages: scripts/ensure-clickhouse.sh and
// scripts/ensure-postgres.sh install them), prints their DSNs as shell
// assignments, and stops them and removes their folders on SIGINT or
// SIGTERM. The benchmark scripts run the scaled backend on them
// (make bench-ingest BACKEND=clickhouse); it is not for production.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sightline/sightline/internal/testsvc"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sightline-services:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ch, stopCH, err := testsvc.StartClickHouse()
	if err != nil {
		return err
	}
	pg, stopPG, err := testsvc.StartPostgres()
	if err != nil {
		return errors.Join(err, stopCH())
	}
	fmt.Printf("SIGHTLINE_CLICKHOUSE='%s'\nSIGHTLINE_POSTGRES='%s'\n", ch, pg)
	os.Stdout.Sync()
	<-ctx.Done()
	return errors.Join(stopPG(), stopCH())
}
