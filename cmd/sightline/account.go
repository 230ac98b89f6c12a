package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sightline/sightline/internal/admin"
	"github.com/sightline/sightline/internal/config"
)

const accountUsage = `usage:
  sightline account create --email E --name N --role owner|admin|member|viewer [--site ID]... --password-stdin [--json]
  sightline account list [--json]`

// accountCmd creates and lists dashboard accounts, for scripts: the
// password comes on standard input so that it stays out of the process
// list and shell history.
func accountCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(accountUsage)
	}
	cfg := config.Default()
	fs := flag.NewFlagSet("account "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataFlag(fs, &cfg)
	postgresFlag(fs, &cfg)
	asJSON := fs.Bool("json", false, "print JSON")
	switch args[0] {
	case "create":
		var a admin.NewAccount
		var sites stringList
		fs.StringVar(&a.Email, "email", "", "the person's email (their sign-in name)")
		fs.StringVar(&a.Name, "name", "", "the person's name")
		fs.StringVar(&a.Role, "role", "viewer", "owner, admin, member or viewer")
		fs.Var(&sites, "site", "a site ID a member or viewer may see (repeatable)")
		fromStdin := fs.Bool("password-stdin", false, "read the password from standard input (its first line)")
		if err := parseAdminFlags(fs, args[1:]); err != nil {
			return err
		}
		if !*fromStdin {
			return errors.New("account create needs --password-stdin: pipe the password in, e.g. printf %s \"$PW\" | sightline account create ...")
		}
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		a.Password, a.Sites = pw, sites
		return withAdmin(cfg, func(ad admin.Admin) error {
			info, err := ad.CreateAccount(context.Background(), a)
			if err != nil {
				return err
			}
			if *asJSON {
				return json.NewEncoder(stdout).Encode(info)
			}
			fmt.Fprintf(stdout, "account: %s (%s, %s)\n", info.ID, info.Email, info.Role)
			return nil
		})
	case "list":
		if err := parseAdminFlags(fs, args[1:]); err != nil {
			return err
		}
		return withAdmin(cfg, func(ad admin.Admin) error {
			list, err := ad.ListAccounts(context.Background())
			if err != nil {
				return err
			}
			if *asJSON {
				return json.NewEncoder(stdout).Encode(list)
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tSITES\tLAST SEEN")
			for _, a := range list {
				seen := "never"
				if a.LastSeenAt != nil {
					seen = a.LastSeenAt.Format("2006-01-02 15:04")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Email, a.Name, a.Role, strings.Join(a.Sites, ","), seen)
			}
			return tw.Flush()
		})
	}
	return errors.New(accountUsage)
}

// parseAdminFlags parses an admin command's flags, then the environment.
func parseAdminFlags(fs *flag.FlagSet, args []string) error {
	pos, err := parseCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	return nil
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}
