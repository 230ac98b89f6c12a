package config_test

import (
	"flag"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/config"
)

func TestFlagsWinOverEnvironment(t *testing.T) {
	c := config.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.Bind(fs)
	if err := fs.Parse([]string{"-addr", ":9999"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SIGHTLINE_ADDR":                    ":1111",
		"SIGHTLINE_DB_MEMORY":               "1GB",
		"SIGHTLINE_SHUTDOWN_TIMEOUT":        "5s",
		"SIGHTLINE_MAX_BATCH":               "10",
		"SIGHTLINE_RECORDING_SWEEP":         "10m",
		"SIGHTLINE_MAX_RECORDING_CHUNK_RAW": "4194304",
		"SIGHTLINE_BODY_GRACE":              "2s",
		"SIGHTLINE_MAX_CONCURRENT_PER_IP":   "4",
		"SIGHTLINE_METRICS_ADDR":            "off",
		"SIGHTLINE_METRICS_TOKEN":           "tok",
		"SIGHTLINE_SIGNIN_FAILURES_PER_IP":  "7",
		"SIGHTLINE_QUERY_TIMEOUT":           "2s",
	}
	err := config.ApplyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9999" || c.DBMemoryLimit != "1GB" || c.ShutdownTimeout != 5*time.Second || c.Limits.MaxBatchMessages != 10 ||
		c.RecordingSweep != 10*time.Minute || c.Recording.MaxRawBytes != 4<<20 || c.Recording.MaxChunkBytes != 1<<20 ||
		c.Body.Grace != 2*time.Second || c.Body.Timeout != 30*time.Second || c.MaxConcurrentPerIP != 4 ||
		c.MetricsAddr != "off" || c.MetricsToken != "tok" || c.SignInFailuresPerIP != 7 || c.QueryTimeout != 2*time.Second {
		t.Fatalf("config = %+v", c)
	}
	env["SIGHTLINE_QUEUE"] = "lots"
	if err := config.ApplyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err == nil {
		t.Fatal("bad SIGHTLINE_QUEUE accepted")
	}
}

// TestREADMEDefaultsMatch reads every table of the README that has a Flag
// and a Default column and wants each default it states to be the
// flag's: a README that said --queue was 100,000 while the binary used
// 20,000 went unnoticed.
func TestREADMEDefaultsMatch(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.Bind(fs)
	flagRef := regexp.MustCompile("`--([a-z0-9-]+)`")
	checked := 0
	var flagCol, defCol int
	for _, line := range strings.Split(string(readme), "\n") {
		if !strings.HasPrefix(line, "|") {
			flagCol, defCol = -1, -1
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if flagCol < 0 { // a table's header row
			flagCol, defCol = slices.Index(cells, "Flag"), slices.Index(cells, "Default")
			if flagCol < 0 || defCol < 0 {
				flagCol, defCol = len(cells), len(cells) // not a table of flags
			}
			continue
		}
		if flagCol >= len(cells) || defCol >= len(cells) {
			continue
		}
		names := flagRef.FindAllStringSubmatch(cells[flagCol], -1)
		defaults := []string{cells[defCol]}
		if len(names) > 1 {
			defaults = strings.Split(cells[defCol], ", ")
		}
		if len(names) == 0 {
			continue
		}
		if len(defaults) != len(names) {
			t.Errorf("README row %q: %d flags but %d defaults", line, len(names), len(defaults))
			continue
		}
		for i, m := range names {
			f := fs.Lookup(m[1])
			if f == nil {
				t.Errorf("README names --%s, which serve does not have", m[1])
				continue
			}
			if f.DefValue == "" {
				continue // documented in words ("none", "DATA/geo/... if present")
			}
			checked++
			if got, ok := readmeValue(defaults[i], f); !ok || got != f.DefValue {
				t.Errorf("README says --%s defaults to %q; the binary's default is %q", m[1], defaults[i], f.DefValue)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d defaults; did the README's tables change shape?", checked)
	}
	t.Logf("checked %d defaults", checked)
}

// readmeValue turns a default as the README writes it ("512 KiB",
// "20,000", "30 s", "off", "`256MB`") into the flag's DefValue form.
func readmeValue(s string, f *flag.Flag) (string, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "`", ""))
	switch f.Value.(flag.Getter).Get().(type) {
	case bool:
		return strconv.FormatBool(s == "on" || s == "true"), s == "on" || s == "off" || s == "true" || s == "false"
	case time.Duration:
		f := strings.Fields(s)
		if len(f) > 1 && slices.Contains([]string{"ms", "s", "m", "h"}, f[1]) {
			f[0] += f[1] // "30 s"
		}
		if len(f) == 0 {
			return "", false
		}
		d, err := time.ParseDuration(f[0])
		return d.String(), err == nil
	case int, int64:
		m := regexp.MustCompile(`^([0-9,]+)\s*(KiB|MiB|GiB)?`).FindStringSubmatch(s)
		if m == nil {
			return "", false
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
		n <<= map[string]int{"": 0, "KiB": 10, "MiB": 20, "GiB": 30}[m[2]]
		return strconv.FormatInt(n, 10), err == nil
	}
	return s, true
}
