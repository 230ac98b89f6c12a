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

/** The site's recording settings, as /t/config sends them. */
export interface RecordingConfig {
  enabled?: unknown;
  sample_rate?: unknown;
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
  if (!sampled()) return;
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
