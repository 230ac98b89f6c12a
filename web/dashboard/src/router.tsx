// A small router over the History API: the current location as a hook,
// navigate() and <Link>, and match() for path patterns like
// "/s/:site/users/:id". The server answers index.html for every page path.

import type { ComponentChildren, TargetedMouseEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** What the router gives a page: the parameters of its path (:site, :id…). */
export interface PageProps {
  params: Record<string, string>;
}

type Listener = () => void;
const listeners = new Set<Listener>();

function notify(): void {
  listeners.forEach((l) => l());
}

if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

/** Goes to a path of the dashboard without reloading the page. */
export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.scrollTo(0, 0);
  notify();
}

export interface Location {
  path: string;
  query: URLSearchParams;
}

/** The current location; the component re-renders when it changes. */
export function useLocation(): Location {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((n) => n + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** Replaces the query string (for state worth keeping in the address, like a search). */
export function setQuery(params: Record<string, string | undefined>): void {
  const q = new URLSearchParams(location.search);
  for (const k in params) {
    const v = params[k];
    if (v) q.set(k, v);
    else q.delete(k);
  }
  const s = q.toString();
  history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
  notify();
}

/**
 * Matches a path against a pattern whose ":name" segments capture; a
 * trailing "*" matches the rest. Returns the captures, or null.
 */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '*') return out;
    if (i >= s.length) return null;
    if (p[i].startsWith(':')) {
      try {
        out[p[i].slice(1)] = decodeURIComponent(s[i]);
      } catch {
        return null;
      }
    } else if (p[i] !== s[i]) return null;
  }
  return p.length === s.length ? out : null;
}

interface LinkProps {
  href: string;
  class?: string;
  id?: string;
  children?: ComponentChildren;
  onClick?: (e: TargetedMouseEvent<HTMLAnchorElement>) => void;
  'aria-current'?: 'page';
  'aria-label'?: string;
  title?: string;
}

/** An <a> that navigates inside the app (a modified click opens a tab as usual). */
export function Link(props: LinkProps) {
  const { href, onClick, ...rest } = props;
  return (
    <a
      href={href}
      {...rest}
      onClick={(e: TargetedMouseEvent<HTMLAnchorElement>) => {
        if (onClick) onClick(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    />
  );
}
