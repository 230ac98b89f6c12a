package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/demo"
	"github.com/sightline/sightline/internal/feedback"
	"github.com/sightline/sightline/internal/recording"
	"github.com/sightline/sightline/internal/segment/compiler"
	"github.com/sightline/sightline/internal/segment/engine"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
	"github.com/sightline/sightline/internal/survey"
)

// demoSiteName and demoShopName name the sites `sightline demo` fills.
const (
	demoSiteName = "Demo"
	demoShopName = "Demo Shop"
)

// demoEmail is the demo owner's sign-in name.
const demoEmail = "demo@sightline.local"

// demoCredentials is what `sightline demo` keeps in the data folder
// (owner-only) so that later runs can show it again: keys are stored only
// hashed, and a newcomer needs them to try the API.
type demoCredentials struct {
	Site          string `json:"site"`
	WriteKey      string `json:"write_key"`
	ReadToken     string `json:"read_token"`
	AdminToken    string `json:"admin_token"`
	ShopSite      string `json:"shop_site,omitempty"`
	ShopReadToken string `json:"shop_read_token,omitempty"`
	URL           string `json:"url"`
	Email         string `json:"email,omitempty"`
	Password      string `json:"password,omitempty"`
}

// demoCmd fills a "Demo" site (Ledgerly, an accounting app) and a "Demo
// Shop" site (Fernhill, an online shop) with synthetic products once, and
// prints how to reach them. Later runs only print.
func demoCmd(args []string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "the address the server will listen on, for the printed URL")
	users := fs.Int("users", 20000, "people to generate")
	if _, err := parseCommand(fs, args); err != nil {
		return err
	}
	// The demo loads data as a server would: with the same soft limit on
	// the Go heap (without it the heap doubled between collections).
	if err := setGoMemoryLimit(cfg.GoMemoryLimit); err != nil {
		return err
	}
	credsPath := filepath.Join(cfg.DataDir, "demo.json")
	var old demoCredentials
	if b, err := os.ReadFile(credsPath); err == nil && json.Unmarshal(b, &old) == nil && old.Email != "" {
		printDemo(stdout, old)
		return nil
	}
	if _, err := admin.Dial(cfg.SocketPath()); err == nil {
		if old.Site != "" {
			printDemo(stdout, old)
			return nil
		}
		return errors.New("a server is running on " + cfg.DataDir + "; stop it to create the demo site")
	}
	ctx := context.Background()
	db, err := duckstore.Open(ctx, cfg.DBPath(), duckstore.Options{MemoryLimit: cfg.DBMemoryLimit},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return fmt.Errorf("open %s: %w", cfg.DBPath(), err)
	}
	defer db.Close()
	if old.Site != "" {
		// Made before the dashboard had accounts: add the demo owner.
		if old.Email, old.Password, err = demoOwner(ctx, db, old.Site); err != nil {
			return err
		}
		return saveDemo(stdout, credsPath, old)
	}
	for _, s := range db.Sites(ctx) {
		if s.Name == demoSiteName || s.Name == demoShopName {
			return fmt.Errorf("site %s (%s) exists but %s is missing; create a token with sightline token create",
				s.PublicID, s.Name, credsPath)
		}
	}
	url := serverURL(cfg.Addr)
	c, err := makeDemo(ctx, db, cfg, url, *users, stderr)
	if err != nil {
		return err
	}
	return saveDemo(stdout, credsPath, c)
}

// makeDemo creates the demo's two sites, fills them, and makes the tokens
// and the owner account, reporting on stderr what it made.
func makeDemo(ctx context.Context, db *duckstore.DB, cfg config.Config, url string, users int, stderr io.Writer) (demoCredentials, error) {
	start := time.Now()
	local := admin.Local{Store: db}
	origins := []string{url, "http://localhost:8080"}
	site, err := local.CreateSite(ctx, demoSiteName, origins)
	if err != nil {
		return demoCredentials{}, err
	}
	shop, err := local.CreateSite(ctx, demoShopName, origins)
	if err != nil {
		return demoCredentials{}, err
	}
	c := demoCredentials{Site: site.ID, WriteKey: site.WriteKey, ShopSite: shop.ID, URL: url}
	for _, t := range []struct {
		site  string
		scope store.Scope
		into  *string
	}{{site.ID, store.ScopeRead, &c.ReadToken}, {site.ID, store.ScopeAdmin, &c.AdminToken},
		{shop.ID, store.ScopeRead, &c.ShopReadToken}} {
		tok, err := local.CreateToken(ctx, t.site, t.scope)
		if err != nil {
			return demoCredentials{}, err
		}
		*t.into = tok.Token
	}
	// The owner comes first: the demo's segments are signed with its name.
	if c.Email, c.Password, err = demoOwner(ctx, db, site.ID); err != nil {
		return demoCredentials{}, err
	}
	author := demo.DefaultAuthor
	if a, _, err := db.AccountByEmail(ctx, demoEmail); err == nil {
		author = cmp.Or(a.Name, a.Email)
	}
	svc, closeSvc, err := demoServices(db, cfg)
	if err != nil {
		return demoCredentials{}, err
	}
	defer closeSvc()
	now := time.Now()
	for _, f := range []struct {
		id, name string
		users    int
		fill     func(context.Context, demo.Services, int64, demo.Config) (demo.Summary, error)
	}{{site.ID, "Ledgerly, an accounting app", users, demo.FillSaaS},
		{shop.ID, "Fernhill, an online shop", max(users/4, 1), demo.FillShop}} {
		s, err := db.Site(ctx, f.id)
		if err != nil {
			return demoCredentials{}, err
		}
		t := time.Now()
		fmt.Fprintf(stderr, "demo: %s: %d people, %d days of activity…\n", f.name, f.users, demo.Days)
		sum, err := f.fill(ctx, svc, s.ID, demo.Config{Users: f.users, Seed: 1, Now: now, Author: author})
		if err != nil {
			return demoCredentials{}, fmt.Errorf("fill the demo site %s: %w", f.id, err)
		}
		fmt.Fprintf(stderr, "demo: %s (site %s) in %s (data %s, recordings %s)\n%s", f.name, f.id,
			time.Since(t).Round(100*time.Millisecond), sum.Loading.Round(100*time.Millisecond),
			sum.Recording.Round(100*time.Millisecond), describe(sum))
	}
	fmt.Fprintf(stderr, "demo: ready in %s; %s holds %s\n", time.Since(start).Round(100*time.Millisecond),
		cfg.DataDir, sizeOf(cfg.DataDir))
	return c, nil
}

// demoServices wires the services the demo writes through, as the server
// does.
func demoServices(db *duckstore.DB, cfg config.Config) (demo.Services, func(), error) {
	log := slog.New(slog.DiscardHandler)
	blobs, err := server.OpenRecordings(context.Background(), cfg)
	if err != nil {
		return demo.Services{}, nil, err
	}
	rec, err := recording.New(recording.Config{Store: db, Blobs: blobs, Log: log})
	if err != nil {
		return demo.Services{}, nil, err
	}
	segments := engine.New(db, compiler.DuckDB{}, nil)
	surveys := survey.New(db, segments, log, nil)
	svc := demo.Services{DB: db, Surveys: surveys, Feedback: feedback.New(db, surveys, log, nil), Recordings: rec,
		Segments: segments}
	return svc, func() { rec.Close() }, nil
}

// describe lists what a demo site was filled with.
func describe(s demo.Summary) string {
	out := fmt.Sprintf("      %d users, %d anonymous visitors, %d companies, %d sessions, %d events, %d attribute values\n",
		s.Users, s.Anonymous, s.Companies, s.Sessions, s.Events, s.AttrValues)
	if s.Surveys > 0 {
		out += fmt.Sprintf("      %d surveys with %d responses (%d completed)\n", s.Surveys, s.Responses, s.Completed)
	}
	out += fmt.Sprintf("      %d feedback, %d recordings in %d chunks (%.1f MB of rrweb events)\n",
		s.Feedback, s.Recordings, s.Chunks, float64(s.RecordingBytes)/(1<<20))
	if len(s.Segments) > 0 {
		sizes := make([]string, len(s.Segments))
		for i, seg := range s.Segments {
			sizes[i] = fmt.Sprintf("%s (%d)", seg.Name, seg.Size)
		}
		out += fmt.Sprintf("      %d saved segments: %s\n", len(s.Segments), strings.Join(sizes, ", "))
	}
	return out
}

// sizeOf is the size of the files under dir, for people to read.
func sizeOf(dir string) string {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
}

// demoOwner creates the demo's owner account with a random password,
// unless an account with its email exists (then the password is unknown).
func demoOwner(ctx context.Context, db *duckstore.DB, site string) (email, password string, err error) {
	password = auth.NewSecret("")
	_, err = account.New(db, account.Config{}).Create(ctx, demoEmail, "Demo Owner", password, store.RoleOwner, nil)
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Code == "email_taken" {
		return demoEmail, "(unchanged: the account existed before)", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("create the demo account for site %s: %w", site, err)
	}
	return demoEmail, password, nil
}

// saveDemo keeps the credentials in the data folder (owner-only) and
// prints them.
func saveDemo(stdout io.Writer, path string, c demoCredentials) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("keep the demo credentials: %w", err)
	}
	printDemo(stdout, c)
	return nil
}

// serverURL is the address a browser on this machine reaches a server
// listening on addr at: an unspecified host (":8080", "0.0.0.0:8080")
// means localhost.
func serverURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func printDemo(w io.Writer, c demoCredentials) {
	if c.Email != "" {
		fmt.Fprintf(w, `Dashboard: %s/
  sign in as   %s
  password     %s
`, c.URL, c.Email, c.Password)
	}
	fmt.Fprintf(w, `Demo site %s (Ledgerly, an accounting app) is ready at %s
  write key    %s
  read token   %s
  admin token  %s
`, c.Site, c.URL, c.WriteKey, c.ReadToken, c.AdminToken)
	if c.ShopSite != "" {
		fmt.Fprintf(w, `Demo Shop site %s (Fernhill, an online shop)
  read token   %s
`, c.ShopSite, c.ShopReadToken)
	}
	fmt.Fprintf(w, `Try:
  curl -H "Authorization: Bearer %s" %s/api/v1/sites/%s/attributes
  curl -H "Authorization: Bearer %s" -d '{"text":"plan = \"enterprise\" and active_days(30d) >= 4"}' %s/api/v1/sites/%s/segments/preview
`, c.ReadToken, c.URL, c.Site, c.ReadToken, c.URL, c.Site)
}
