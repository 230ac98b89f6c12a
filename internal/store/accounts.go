package store

import (
	"fmt"
	"slices"
	"time"
)

// Role is what a dashboard account may do. Owners and admins see every site;
// members and viewers only the sites granted to them.
type Role string

// Account roles, from most to least powerful.
const (
	// RoleOwner may do everything, including managing admins and ownership.
	RoleOwner Role = "owner"
	// RoleAdmin manages every site, its tokens, and the team except owners.
	RoleAdmin Role = "admin"
	// RoleMember reads and changes content (segments, attributes' data) of
	// the sites granted.
	RoleMember Role = "member"
	// RoleViewer only reads the sites granted.
	RoleViewer Role = "viewer"
)

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleOwner, RoleAdmin, RoleMember, RoleViewer:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want owner, admin, member or viewer)", s)
}

// AllSites reports whether the role sees every site, granted or not.
func (r Role) AllSites() bool { return r == RoleOwner || r == RoleAdmin }

// Scope is the API scope the role has on a site it may see.
func (r Role) Scope() Scope {
	switch r {
	case RoleOwner, RoleAdmin:
		return ScopeAdmin
	case RoleMember:
		return ScopeWrite
	case RoleViewer:
		return ScopeRead
	}
	return ""
}

// Account is a person who signs in to the dashboard. Its password is
// stored only as an argon2id hash, which this record does not carry.
type Account struct {
	ID    string
	Email string // lowercase, unique
	Name  string
	Role  Role
	// SiteIDs are the sites granted to a member or viewer; owners and
	// admins see every site and have none here.
	SiteIDs    []int64
	CreatedAt  time.Time
	LastSeenAt time.Time // zero when never signed in
}

// Access returns the scope the account has on a site, or "" when it may not
// see it.
func (a Account) Access(siteID int64) Scope {
	if a.Role.AllSites() || slices.Contains(a.SiteIDs, siteID) {
		return a.Role.Scope()
	}
	return ""
}

// BrowserSession is a signed-in browser. Its ID is a secret kept in a
// cookie and stored only as a hash.
type BrowserSession struct {
	IDHash     string
	AccountID  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
}

// Invite lets someone create an account with a given email, role and
// sites. Its token is a secret sent to that person and stored only as a
// hash.
type Invite struct {
	ID        string
	Email     string
	Role      Role
	SiteIDs   []int64
	CreatedBy string // account ID
	CreatedAt time.Time
	ExpiresAt time.Time
}
