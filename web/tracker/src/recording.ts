// The core's side of session recording: whether this browser session is
// recorded, and the bridge the recorder chunk (chunks/recorder.ts) reads
// what it needs through. The recorder itself (rrweb, masking, upload) is
// a lazy chunk, loaded only when the site's config turns recording on and
// the session is sampled in, so pages that are not recorded never pay for it.
//
// The decision is made once per browser session and tab, and kept in
// sessionStorage as "SESSION_ID:1" or ":0", so that every page load of
// the session follows it (and a recorder that the server turned away
// marks it ":0" for the rest of the session).

import * as core from './core';
import { loadChunk } from './chunks';
import { scrubURL } from './scrub';
import { listen } from './bridge';
import { safe } from './safe';

/** The site's recording settings, as /t/config sends them. */
export interface RecordingConfig {
  enabled?: unknown;
  sample_rate?: unknown;
  backgrounds?: unknown; // page groups whose heatmap backgrounds a session that is not recorded captures
}

/** What the recorder chunk reads from the core (window.sightline.rec). */
export interface RecorderBridge {
  /** Where chunks go: HOST/t/rec?k=KEY. */
  endpoint: string;
  /** Capture may run (consent given, not opted out). */
  active: () => boolean;
  /** The browser session's ID (a new one after 30 idle minutes). */
  session: () => string;
  anonymousId: () => string;
  userId: () => string;
  /** Whether the session is (still) to be recorded; false after the server turned it away. */
  sampled: () => boolean;
  /** The server refused recording for this session: stop on every later page too. */
  refuse: () => void;
  /** Scrubs an address as the core's messages are (src/scrub.ts): for the recording's Meta href. */
  scrubURL: (url: string) => string;
  /** Calls fn with the path of every page view the core sends, single-page apps' route changes included. */
  onPage: (fn: (path: string) => void) => void;
  debug: boolean;
}

const KEY = 'sl_rec';

function sessionGet(name: string): string | null {
  try {
    return window.sessionStorage.getItem(name);
  } catch (e) {
    return null;
  }
}

function sessionSet(name: string, value: string): void {
  try {
    window.sessionStorage.setItem(name, value);
  } catch (e) {
    // storage disabled: the decision lasts for this page
  }
}

let rate = 0;
let started = false; // whether backgrounds are looked for

// sampled decides (once per browser session, remembered) whether the
// session is recorded.
function sampled(): boolean {
  const id = core.sessionID();
  if (!id) return false;
  const kept = (sessionGet(KEY) || '').split(':');
  if (kept[0] === id) return kept[1] === '1';
  const yes = rate >= 1 || Math.random() < rate;
  sessionSet(KEY, id + ':' + (yes ? '1' : '0'));
  return yes;
}

/**
 * Loads the recorder when the site records and this session is sampled
 * in; the recorder finds its bridge on window.sightline.rec.
 */
export function maybeRecord(host: string, key: string, cfg: RecordingConfig | undefined, debug: boolean): void {
  if (!cfg || cfg.enabled !== true || !core.isActive()) return;
  const r = Number(cfg.sample_rate);
  rate = isFinite(r) ? Math.min(1, Math.max(0, r)) : 0;
  if (!sampled()) return backgrounds(host, key, cfg.backgrounds, debug);
  const bridge: RecorderBridge = {
    endpoint: host + '/t/rec?k=' + encodeURIComponent(key),
    active: core.isActive,
    session: core.sessionID,
    anonymousId: core.anonymousID,
    userId: core.userIDOf,
    sampled: sampled,
    refuse: function (): void {
      sessionSet(KEY, core.sessionID() + ':0');
    },
    scrubURL: scrubURL,
    onPage: function (fn: (path: string) => void): void {
      listen('page', function (path: string): void {
        fn(path);
      });
    },
    debug: debug,
  };
  const w = window as Window & { sightline?: { rec?: RecorderBridge } };
  if (w.sightline) w.sightline.rec = bridge;
  loadChunk(host, 'recorder');
}

/** A page group whose background the site wants, as the config lists it. */
interface Group {
  page?: unknown;
  match?: unknown;
}

const ASKED = 'sl_bg'; // localStorage: when this browser last asked about a page group at a device
const ASK_AGAIN = 864e5; // ms: a day

// inGroup reports whether the page at href (scrubbed), of path, belongs
// to g, as the server reads a page group (heatmap.Query.Matches): a path
// pattern's * is any run of characters but /, ** any run at all.
function inGroup(g: Group, href: string, path: string): boolean {
  const page = String(g.page || '');
  try {
    if (g.match === 'exact') return href === page;
    if (g.match === 'regex') return new RegExp(page).test(href);
    if (g.match !== 'pattern') return path === page;
    const re = page.replace(/[.+?^${}()|[\]\\/]/g, '\\$&').replace(/\*\*|\*/g, function (s: string): string {
      return s === '*' ? '[^/]*' : '.*';
    });
    return new RegExp('^' + re + '$').test(path);
  } catch (e) {
    return false;
  }
}

// askedRecently reports whether this browser asked about k within a day,
// and notes that it asks now.
function askedRecently(k: string): boolean {
  try {
    const m = JSON.parse(window.localStorage.getItem(ASKED) || '{}') as Record<string, number>;
    const now = Date.now();
    if (now - m[k] < ASK_AGAIN) return true;
    for (const x in m) if (!(now - m[x] < ASK_AGAIN)) delete m[x];
    m[k] = now;
    window.localStorage.setItem(ASKED, JSON.stringify(m));
    return false;
  } catch (e) {
    return true; // without storage every page view would ask: none does
  }
}

/** What chunks/background.ts reads from window.sightline.bg. */
interface BackgroundBridge {
  endpoint: string;
  pending: { href: string; width: number }[];
  capture?: (g: { href: string; width: number }) => void;
  active: () => boolean;
  session: () => string;
  anonymousId: () => string;
  userId: () => string;
  scrubURL: (url: string) => string;
  debug: boolean;
}

/**
 * In a session that is not recorded, on every page view of a group whose
 * heatmap background the site wants (at most once a day per group and
 * device), asks the server whether to capture it (GET /t/bg); when it
 * says yes, loads the chunk that captures it (chunks/background.ts).
 */
function backgrounds(host: string, key: string, groups: unknown, debug: boolean): void {
  if (!Array.isArray(groups) || !groups.length || started) return;
  started = true;
  const endpoint = host + '/t/bg?k=' + encodeURIComponent(key);
  const bridge: BackgroundBridge = {
    endpoint: endpoint,
    pending: [],
    active: core.isActive,
    session: core.sessionID,
    anonymousId: core.anonymousID,
    userId: core.userIDOf,
    scrubURL: scrubURL,
    debug: debug,
  };
  const consider = function (): void {
    if (!core.isActive()) return;
    const href = scrubURL(location.href);
    const path = scrubURL(location.origin + location.pathname).slice(location.origin.length);
    const width = window.innerWidth;
    const device = width > 1023 ? 'desktop' : width > 767 ? 'tablet' : 'mobile';
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] as Group;
      if (!inGroup(g, href, path)) continue;
      if (askedRecently(g.match + ' ' + g.page + ' ' + device)) return;
      fetch(endpoint + '&url=' + encodeURIComponent(href) + '&width=' + width, { credentials: 'omit' })
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(
          safe(function (a: { capture?: unknown } | null): void {
            if (!a || a.capture !== true) return;
            const grant = { href: href, width: width };
            if (bridge.capture) return bridge.capture(grant);
            bridge.pending.push(grant);
            const w = window as Window & { sightline?: { bg?: BackgroundBridge } };
            if (w.sightline) w.sightline.bg = bridge;
            loadChunk(host, 'background');
          }),
          function (): void {},
        );
      return;
    }
  };
  consider();
  listen('page', consider);
}
