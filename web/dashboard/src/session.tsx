// The signed-in account, its sites and what it may do on each, shared
// through context with every page.

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Access, Me, Role, Site } from './types';

export interface SessionState {
  me: Me;
  /** Reads /api/v1/me again (after a change to sites or the account). */
  refresh: () => Promise<void>;
  /** Replaces the session with an answer that carries a me-body. */
  replace: (me: Me) => void;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<SessionState | null>(null);

/** The signed-in session; only pages inside the shell use it. */
export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('BUG: useSession outside the signed-in app');
  return s;
}

export const SiteContext = createContext<Site | null>(null);

/** The site the page is about. */
export function useSite(): Site {
  const s = useContext(SiteContext);
  if (!s) throw new Error('BUG: useSite outside a site page');
  return s;
}

const rank: Record<Access, number> = { read: 1, write: 2, admin: 3 };

/**
 * What the account may do on a site. Without an access field (a server
 * from before accounts), the account's role decides.
 */
export function siteAccess(site: Site, role: Role): Access {
  if (site.access) return site.access;
  if (role === 'owner' || role === 'admin') return 'admin';
  return role === 'member' ? 'write' : 'read';
}

/** True when access is at least need. */
export function allows(access: Access, need: Access): boolean {
  return rank[access] >= rank[need];
}

/** True for roles that manage the team and create sites. */
export function isAdminRole(role: Role): boolean {
  return role === 'owner' || role === 'admin';
}
