package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/apierr"
	"github.com/sightline/sightline/internal/auth"
	"github.com/sightline/sightline/internal/config"
	"github.com/sightline/sightline/internal/gen"
	"github.com/sightline/sightline/internal/store"
	"github.com/sightline/sightline/internal/store/duckstore"
)

// demoSiteName names the site `sightline demo` fills.
const demoSiteName = "Demo"

// demoEmail is the demo owner's sign-in name.
const demoEmail = "demo@sightline.local"

// demoCredentials is what `sightline demo` keeps in the data folder
// (owner-only) so that later runs can show it again: keys are stored only
// hashed, and a newcomer needs them to try the API.
type demoCredentials struct {
	Site       string `json:"site"`
	WriteKey   string `json:"write_key"`
	ReadToken  string `json:"read_token"`
	AdminToken string `json:"admin_token"`
	URL        string `json:"url"`
	Email      string `json:"email,omitempty"`
	Password   string `json:"password,omitempty"`
}

// demoCmd fills a "Demo" site with the synthetic product once, and prints
// how to reach it. Later runs only print.
func demoCmd(args []string, stdout, stderr io.Writer) error {
	cfg := config.Default()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "the address the server will listen on, for the printed URL")
	users := fs.Int("users", 20000, "people to generate")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if err := config.ApplyEnv(fs, os.LookupEnv); err != nil {
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
		if s.Name == demoSiteName {
			return fmt.Errorf("site %s (%s) exists but %s is missing; create a token with sightline token create",
				s.PublicID, demoSiteName, credsPath)
		}
	}
	url := serverURL(cfg.Addr)
	local := admin.Local{Store: db}
	site, err := local.CreateSite(ctx, demoSiteName, []string{url, "http://localhost:8080"})
	if err != nil {
		return err
	}
	read, err := local.CreateToken(ctx, site.ID, store.ScopeRead)
	if err != nil {
		return err
	}
	adm, err := local.CreateToken(ctx, site.ID, store.ScopeAdmin)
	if err != nil {
		return err
	}
	s, err := db.Site(ctx, site.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "demo: generating %d people with 90 days of activity…\n", *users)
	if _, err := fillSite(ctx, db, s, gen.Config{Users: *users, Days: 90, EventsPerUser: 50, Seed: 1}, stderr); err != nil {
		return err
	}
	c := demoCredentials{Site: site.ID, WriteKey: site.WriteKey, ReadToken: read.Token, AdminToken: adm.Token, URL: url}
	if c.Email, c.Password, err = demoOwner(ctx, db, site.ID); err != nil {
		return err
	}
	return saveDemo(stdout, credsPath, c)
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
	fmt.Fprintf(w, `Demo site %s is ready at %s
  write key    %s
  read token   %s
  admin token  %s
Try:
  curl -H "Authorization: Bearer %s" %s/api/v1/sites/%s/attributes
  curl -H "Authorization: Bearer %s" -d '{"text":"plan = \"enterprise\" and active_days(30d) >= 4"}' %s/api/v1/sites/%s/segments/preview
`, c.Site, c.URL, c.WriteKey, c.ReadToken, c.AdminToken, c.ReadToken, c.URL, c.Site, c.ReadToken, c.URL, c.Site)
}
