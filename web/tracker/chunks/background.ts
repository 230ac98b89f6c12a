// Heatmap backgrounds: a lazily loaded chunk of the tracker. In a session
// that is not recorded, on a page of a group whose background the site
// wants, the core asks the server (GET /t/bg, src/recording.ts); only when
// the server grants it the capture does it load this chunk, which
// serialises the page once with rrweb's recorder and the recorder's own
// privacy options (chunks/rec/privacy.ts: fields masked, suppressed
// elements and secret fields blocked, digit runs masked, no scripts), and
// posts the page's Meta and FullSnapshot events (POST /t/bg).
//
// The snapshot is taken after the page settled, when the browser is idle:
// it costs what a recording's first frame costs, on the few page views
// the server grants (one per page group and device a week).

import { record } from '@rrweb/record';
import { safe, setDebug } from '../src/safe';
import { recordPrivacy } from './rec/privacy';
import { gzip } from './rec/gzip';

/** A capture the server granted: the page's scrubbed address and width. */
export interface Grant {
  href: string;
  width: number;
}

/** What the chunk reads from the core (window.sightline.bg). */
export interface BackgroundBridge {
  /** HOST/t/bg?k=KEY */
  endpoint: string;
  /** Granted captures not taken yet; capture, once set, takes later ones. */
  pending: Grant[];
  capture?: (g: Grant) => void;
  active: () => boolean;
  session: () => string;
  anonymousId: () => string;
  userId: () => string;
  scrubURL: (url: string) => string;
  debug: boolean;
}

type Window_ = Window & {
  sightline?: { bg?: BackgroundBridge };
  requestIdleCallback?: (fn: () => void, o: { timeout: number }) => number;
};

const SETTLE = 1000; // ms after the grant: time for the page to render
const IDLE_WAIT = 2000; // ms at most waiting for the browser to be idle

let bridge: BackgroundBridge;

function idle(fn: () => void): void {
  const w = window as Window_;
  if (typeof w.requestIdleCallback === 'function') w.requestIdleCallback(safe(fn), { timeout: IDLE_WAIT });
  else window.setTimeout(safe(fn), 1);
}

// snap serialises the page as rrweb's recorder starts a recording (its
// Meta and FullSnapshot events), then stops it.
function snap(): { type?: number; data?: { href?: unknown } }[] {
  const events: { type?: number; data?: { href?: unknown } }[] = [];
  const stop = record({
    emit: function (e: { type?: number; data?: { href?: unknown } }): void {
      if (e.type === 4 || e.type === 2) events.push(e);
    },
    ...recordPrivacy,
    errorHandler: function (): boolean {
      return true;
    },
  });
  if (stop) stop();
  return events;
}

// capture serialises the page, if it is still the page granted, and posts
// its background.
function capture(g: Grant): void {
  if (!bridge.active() || bridge.scrubURL(location.href) !== g.href || window.innerWidth !== g.width) return;
  const events = snap();
  if (events.length !== 2 || events[0].type !== 4 || events[1].type !== 2) return;
  const meta = events[0].data;
  if (meta) meta.href = g.href;
  const t = Date.now();
  const body = JSON.stringify({
    recording: bridge.session() + '-' + Math.random().toString(36).slice(2, 8),
    anonymousId: bridge.anonymousId(),
    userId: bridge.userId(),
    seq: 0,
    start: t,
    end: t,
    sentAt: t,
    url: g.href,
    events: events,
  });
  const send = function (data: BodyInit, zipped: boolean): void {
    fetch(bridge.endpoint + (zipped ? '&z=gzip' : ''), {
      method: 'POST',
      body: data,
      credentials: 'omit',
      headers: { 'Content-Type': 'text/plain' },
    }).catch(function (): void {});
  };
  const z = gzip(body);
  if (!z) return send(body, false);
  z.then(
    safe(function (b: ArrayBuffer): void {
      send(b, true);
    }),
    safe(function (): void {
      send(body, false);
    }),
  );
}

function later(g: Grant): void {
  window.setTimeout(safe(function (): void {
    idle(function (): void {
      capture(g);
    });
  }), SETTLE);
}

safe(function (): void {
  const w = window as Window_;
  const b = w.sightline && w.sightline.bg;
  if (!b || b.capture) return;
  bridge = b;
  setDebug(b.debug);
  b.capture = later;
  const p = b.pending.splice(0);
  for (let i = 0; i < p.length; i++) later(p[i]);
})();
