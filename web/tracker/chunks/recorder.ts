// The session recorder: a lazily loaded chunk of the tracker, built on
// rrweb's recorder (@rrweb/record). The core loads it only when the site's
// config turns recording on and the browser session is sampled in
// (src/recording.ts); it finds what it needs on window.sightline.rec.
//
// Privacy rules (chunks/rec/privacy.ts) are applied by rrweb while it
// serialises the page; events are uploaded in ordered chunks
// (chunks/rec/upload.ts). A recording is one browser session in one tab:
// its ID is the tracker's session ID and a tab ID, so that two tabs of a
// session never number their chunks over each other. A new session, or a
// new visitor after reset(), starts a new recording with a full snapshot.
//
// Nothing here may throw into the host page: rrweb's own errors go to its
// errorHandler, and every callback runs through safe.

import { record } from '@rrweb/record';
import type { RecorderBridge } from '../src/recording';
import { safe, setDebug } from '../src/safe';
import { recordPrivacy } from './rec/privacy';
import * as upload from './rec/upload';

const FIRST_CHUNK = 2000; // ms: the page's snapshot leaves early, in case the visitor does not stay
// ms after a single-page app's route change before its full snapshot: time
// for the app to render the new route.
const ROUTE_SETTLE = 600;
const TAB_KEY = 'sl_tab';

type Window_ = Window & { sightline?: { rec?: RecorderBridge }; __slRecorder?: 1 };

let bridge: RecorderBridge;
let who: upload.Identity = { recording: '', anonymousId: '', userId: '' };
let stopRecord: (() => void) | undefined;
let ticker = 0;

// tab returns this tab's ID, kept in sessionStorage (which is per tab).
function tab(): string {
  let id = '';
  try {
    id = window.sessionStorage.getItem(TAB_KEY) || '';
    if (!id) {
      id = Math.random().toString(36).slice(2, 8);
      window.sessionStorage.setItem(TAB_KEY, id);
    }
  } catch (e) {
    id = id || 'x';
  }
  return id;
}

function identity(): upload.Identity {
  const s = bridge.session();
  return { recording: s ? s + '-' + tab() : '', anonymousId: bridge.anonymousId(), userId: bridge.userId() };
}

// tick cuts a chunk; when the visitor's session or anonymous ID changed
// since the recording started, what was buffered goes to the old
// recording and a new one starts with a full snapshot.
function tick(): void {
  if (!bridge.active()) return stop();
  const now = identity();
  if (now.recording !== who.recording || now.anonymousId !== who.anonymousId) {
    upload.cut(who);
    if (!now.recording || !bridge.sampled()) return stop();
    who = now;
    record.takeFullSnapshot(true);
  }
  who.userId = now.userId;
  upload.cut(who);
  upload.kick();
}

function hidden(): void {
  if (!bridge.active()) return stop();
  who.userId = bridge.userId();
  upload.flush(who);
}

function stop(): void {
  if (ticker) clearInterval(ticker);
  ticker = 0;
  if (stopRecord) stopRecord();
  stopRecord = undefined;
  upload.stop('stopped');
}

function start(b: RecorderBridge): void {
  bridge = b;
  setDebug(b.debug);
  who = identity();
  if (!who.recording || !who.anonymousId) return;
  upload.configure(b.endpoint, function (code: string): void {
    if (code === 'recording_disabled' || code === 'quota_exceeded' || code === 'recording_deleted') b.refuse();
    if (code !== 'stopped') stop();
  });
  stopRecord = record({
    emit: safe(function (e: { timestamp: number; type?: number; data?: { href?: unknown } }): void {
      // Meta (type 4) carries the page's address: scrubbed as the core's are.
      if (e.type === 4 && e.data && typeof e.data.href === 'string') e.data.href = b.scrubURL(e.data.href);
      if (!upload.add(e)) safe(tick)();
    }),
    ...recordPrivacy,
    sampling: { scroll: 150, media: 800, input: 'last' },
    errorHandler: function (): boolean {
      return true; // swallowed: the page must not see the recorder's errors
    },
  });
  // A single-page app's route changes draw new pages without a full
  // snapshot: the heatmaps' background of such a page (docs/heatmaps.md)
  // needs one. A full snapshot is taken once per path per page load, after
  // the route had time to render, unless the route changed again; the
  // page the recording started on has its snapshot already.
  const snapped: Record<string, 1> = {};
  let route = location.pathname;
  snapped[route] = 1;
  b.onPage(function (path: string): void {
    route = path;
    if (snapped[path]) return;
    snapped[path] = 1;
    window.setTimeout(safe(function (): void {
      if (stopRecord && route === path) record.takeFullSnapshot(true);
    }), ROUTE_SETTLE);
  });
  window.setTimeout(safe(tick), FIRST_CHUNK);
  ticker = window.setInterval(safe(tick), upload.interval);
  document.addEventListener('visibilitychange', safe(function (): void {
    if (document.visibilityState === 'hidden') hidden();
  }));
  window.addEventListener('pagehide', safe(hidden));
}

safe(function (): void {
  const w = window as Window_;
  const b = w.sightline && w.sightline.rec;
  if (!b || w.__slRecorder) return;
  w.__slRecorder = 1;
  start(b);
})();
