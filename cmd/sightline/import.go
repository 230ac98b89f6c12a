package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/csvimport"
)

const importUsage = `usage: sightline import users|companies FILE.csv --site ID [--json] [--quiet]`

// importCmd imports a CSV file of user or company attributes, showing its
// progress.
func importCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "users" && args[0] != "companies") {
		return errors.New(importUsage)
	}
	what := args[0]
	cfg := config.Default()
	fs := flag.NewFlagSet("import "+what, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	site := fs.String("site", "", "the site's ID")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("quiet", false, "no progress bar")
	pos, err := parseCommand(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 || *site == "" {
		return errors.New(importUsage)
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	cr := &countingReader{r: f}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if *quiet {
			return
		}
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-stop:
				fmt.Fprintf(stderr, "\r%s\n", progressBar(cr.n.Load(), fi.Size(), time.Since(start)))
				return
			case <-t.C:
				fmt.Fprintf(stderr, "\r%s", progressBar(cr.n.Load(), fi.Size(), time.Since(start)))
			}
		}
	}()
	var rep csvimport.Report
	err = withEraser(cfg, func(a admin.Admin) error {
		if what == "companies" {
			rep, err = a.ImportCompanies(context.Background(), *site, cr)
		} else {
			rep, err = a.ImportUsers(context.Background(), *site, cr)
		}
		return err
	})
	close(stop)
	<-done
	if err != nil {
		return fmt.Errorf("import %s: %w", pos[0], err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "%d rows read in %.1fs: %d applied (%d values changed), %d already imported, %d rows and %d cells refused\n",
		rep.Rows, rep.TookSeconds, rep.Applied, rep.Changed, rep.Duplicates, rep.RejectedRows, rep.RejectedCells)
	for _, r := range rep.Rejections {
		if r.Column != "" {
			fmt.Fprintf(stdout, "  line %d, %s: %s\n", r.Line, r.Column, r.Reason)
		} else {
			fmt.Fprintf(stdout, "  line %d: %s\n", r.Line, r.Reason)
		}
	}
	if n := rep.RejectedRows + rep.RejectedCells; n > len(rep.Rejections) {
		fmt.Fprintf(stdout, "  … and %d more\n", n-len(rep.Rejections))
	}
	return nil
}

// progressBar draws how much of the file was read.
func progressBar(done, total int64, took time.Duration) string {
	const width = 30
	frac := 1.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	bar := make([]byte, width)
	for i := range bar {
		if float64(i) < frac*width {
			bar[i] = '#'
		} else {
			bar[i] = '.'
		}
	}
	return fmt.Sprintf("[%s] %3.0f%% %.1f of %.1f MB, %s", bar, frac*100, float64(done)/1e6, float64(total)/1e6,
		took.Round(time.Second))
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
