package chaos

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints the rows as a table, then each scenario's notes.
func WriteTable(w io.Writer, rows []*Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trounds\tacked\tlost\tduplicated\tretried-as-dup\trecovery s\tp50\tp99\tverdict\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Scenario, count(int64(r.Rounds)), count(r.Acked),
			count(r.Lost), count(r.Duplicated), ratio(r.RepostedDup, r.Reposted), seconds(r.Recovery),
			millis(r.P50), millis(r.P99), r.Verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rows {
		if len(r.Notes) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", r.Scenario)
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  - %s\n", strings.ReplaceAll(n, "\n", "\n    "))
		}
	}
	return nil
}

// Failed reports whether a row failed.
func Failed(rows []*Row) bool {
	for _, r := range rows {
		if r.Verdict == Fail {
			return true
		}
	}
	return false
}

func count(n int64) string {
	if n < 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func ratio(n, of int64) string {
	if of < 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", n, of)
}

func seconds(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", d.Seconds())
}

func millis(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
}
