// The frame around every signed-in page: a top bar with the site switcher
// and the account menu, and the left navigation, which collapses behind a
// menu button on narrow screens.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { navigation } from './nav';
import { Link, navigate, useLocation } from './router';
import { allows, siteAccess, useSession } from './session';

/** The site of the current path, or the one used last. */
export function currentSiteID(path: string, sites: { id: string }[]): string {
  const m = /^\/s\/([^/]+)/.exec(path);
  if (m) return decodeURIComponent(m[1]);
  const last = localStorage.getItem('sl.site');
  if (last && sites.some((s) => s.id === last)) return last;
  return sites.length ? sites[0].id : '';
}

export function Shell(props: { children: ComponentChildren }) {
  const { me, signOut } = useSession();
  const { path } = useLocation();
  const [open, setOpen] = useState(false);
  const siteID = currentSiteID(path, me.sites);
  const site = me.sites.find((s) => s.id === siteID);
  const access = site ? siteAccess(site, me.account.role) : 'read';
  useEffect(() => setOpen(false), [path]);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        document.querySelector<HTMLElement>('.menu-button')?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [open]);
  useEffect(() => {
    if (site) localStorage.setItem('sl.site', site.id);
  }, [site]);

  const sitePart = /^\/s\/[^/]+\/([^/]+)/.exec(path);
  const switchSite = (id: string) => {
    const section = sitePart ? sitePart[1] : 'overview';
    navigate(`/s/${encodeURIComponent(id)}/${section}`);
  };
  const isCurrent = (section: string, perSite: boolean) =>
    perSite ? !!sitePart && sitePart[1] === section : path === section || path.startsWith(section + '/');

  return (
    <div class={'shell' + (open ? ' nav-open' : '')}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <button
          type="button"
          class="btn-icon menu-button"
          aria-expanded={open}
          aria-controls="nav"
          aria-label={open ? 'Close the menu' : 'Open the menu'}
          onClick={() => setOpen(!open)}
        >
          <span aria-hidden="true">☰</span>
        </button>
        <Link href="/" class="brand">
          Sightline
        </Link>
        {me.sites.length > 0 && (
          <div class="site-switcher">
            <label for="site-switcher">Site</label>
            <select id="site-switcher" value={siteID} onChange={(e) => switchSite((e.currentTarget as HTMLSelectElement).value)}>
              {me.sites.map((s) => (
                <option value={s.id} key={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </div>
        )}
        <div class="account">
          <span class="account-name" title={me.account.email}>
            {me.account.name || me.account.email} <span class="role">{me.account.role}</span>
          </span>
          <button type="button" class="btn btn-small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <nav id="nav" class="sidenav" aria-label="Main">
        {navigation.map((g) => {
          if (g.perSite && !site) return null;
          const items = g.items.filter(
            (i) => (!i.need || allows(access, i.need)) && (!i.roles || i.roles.includes(me.account.role)),
          );
          if (!items.length) return null;
          return (
            <div class="nav-group" key={g.label}>
              <p class="nav-heading">{g.label === 'Analyse' && site ? site.name : g.label}</p>
              <ul>
                {items.map((i) => (
                  <li key={i.label}>
                    <Link
                      href={i.href(encodeURIComponent(siteID))}
                      aria-current={isCurrent(i.section, g.perSite) ? 'page' : undefined}
                    >
                      {i.label}
                    </Link>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </nav>
      {open && <div class="nav-backdrop" aria-hidden="true" onClick={() => setOpen(false)} />}
      <main id="main" class="content" tabIndex={-1}>
        {props.children}
      </main>
    </div>
  );
}
