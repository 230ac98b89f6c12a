// Frustration signals, each a track event with a reserved name:
//
// $rage_click  RAGE_CLICKS or more clicks, each within RAGE_GAP ms of the
//              one before and RAGE_RADIUS px of the first; sent once the
//              burst ends, with the number of clicks.
// $dead_click  a click on an element that is not a form field or media,
//              after which, for DEAD_WAIT ms, the DOM does not change
//              (MutationObserver on the document and on the open shadow
//              roots the click passed through), the URL stays the same and the page
//              stays visible. Repeated clicks on the same element count once.
// $u_turn      arriving back on the page before the previous one within
//              U_TURN ms of leaving it (A → B → A): the visitor gave up on
//              B. Works across full page loads (sessionStorage) and in
//              single-page apps.

import { track, Page } from './core';
import { safe } from './safe';

export const RAGE_CLICKS = 3;
export const RAGE_GAP = 1000;
export const RAGE_RADIUS = 30;
export const DEAD_WAIT = 1000;
export const U_TURN = 5000;

interface Click {
  t: number;
  x: number; // viewport coordinates: the spot the visitor sees
  y: number;
  px: number; // page coordinates, as reported
  py: number;
  sel: string;
  ox: number; // where in the element, 0–1 of its width and height
  oy: number;
  vw: number; // the viewport's width, px
  pv: string; // the page view's ID
}

let recent: Click[] = [];

// where adds a click's place to a signal's properties: the element and
// the spot in it, as a $click has them, so that heatmaps anchor it.
function where(c: Click, p: Record<string, unknown>): Record<string, unknown> {
  p.selector = c.sel;
  p.page_x = c.px;
  p.page_y = c.py;
  p.offset_x = c.ox;
  p.offset_y = c.oy;
  p.viewport_width = c.vw;
  p.pageview_id = c.pv;
  return p;
}
let rage: (Click & { n: number; last: number }) | null = null;
let rageTimer = 0;

function near(a: Click, b: Click): boolean {
  const dx = a.x - b.x;
  const dy = a.y - b.y;
  return dx * dx + dy * dy <= RAGE_RADIUS * RAGE_RADIUS;
}

/** Sends a rage click whose burst is over, or still going when the page hides. */
export function endRage(): void {
  clearTimeout(rageTimer);
  const r = rage;
  rage = null;
  if (r) track('$rage_click', where(r, { clicks: r.n }));
}

/** Watches a click for rage. */
export function rageClick(c: Click): void {
  if (rage && (c.t - rage.last > RAGE_GAP || !near(rage, c))) endRage();
  if (rage) {
    rage.n++;
    rage.last = c.t;
  } else {
    recent = recent.filter(function (p) {
      return c.t - p.t <= RAGE_GAP && near(p, c);
    });
    // a run: each click within RAGE_GAP of the one before
    for (let i = recent.length - 1; i > 0; i--) {
      if (recent[i].t - recent[i - 1].t > RAGE_GAP) {
        recent = recent.slice(i);
        break;
      }
    }
    recent.push(c);
    if (recent.length >= RAGE_CLICKS) {
      const f = recent[0];
      rage = { t: f.t, x: f.x, y: f.y, px: f.px, py: f.py, sel: f.sel, ox: f.ox, oy: f.oy, vw: f.vw, pv: f.pv,
        n: recent.length, last: c.t };
      recent = [];
    }
  }
  if (rage) {
    clearTimeout(rageTimer);
    rageTimer = window.setTimeout(safe(endRage), RAGE_GAP);
  }
}

// Clicks on these may do their work without changing the DOM: typing,
// media, drawing, frames, links that open a tab or download a file.
const NOT_DEAD = 'input,select,textarea,option,label,video,audio,canvas,iframe,embed,object,[contenteditable],' +
  'a[target=_blank],a[download]';

let dead: (Click & { url: string }) | null = null;
let deadTimer = 0;
let observer: MutationObserver | null = null;
let mutated = 0;

// ours reports whether a mutation is the tracker's own doing, not the
// page answering a click: a chunk's <script> (marked data-sl), or the
// iframe that rrweb's recorder adds to the body and removes at once when
// it starts (gone again by the time the observer hears of it).
function ours(m: MutationRecord): boolean {
  if (m.type !== 'childList') return false;
  const nodes = Array.prototype.slice.call(m.addedNodes).concat(Array.prototype.slice.call(m.removedNodes)) as Node[];
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i] as Element;
    const script = n.nodeName === 'SCRIPT' && n.hasAttribute('data-sl');
    const frame = n.nodeName === 'IFRAME' && !n.isConnected;
    if (!script && !frame) return false;
  }
  return nodes.length > 0;
}

const WATCH: MutationObserverInit = { subtree: true, childList: true, attributes: true, characterData: true };

/**
 * Watches a click for a dead click. path is the click's composed path: a
 * change inside an open shadow root on it (a web component that updates
 * its own label) is the page answering, though the document's observer
 * does not see it.
 */
export function deadClick(el: Element, c: Click, path: EventTarget[]): void {
  if (el.closest(NOT_DEAD)) return;
  const sel = window.getSelection();
  if (sel && !sel.isCollapsed) return; // selecting text is not clicking
  if (!dead || dead.sel !== c.sel) {
    dead = { t: c.t, x: c.x, y: c.y, px: c.px, py: c.py, sel: c.sel, ox: c.ox, oy: c.oy, vw: c.vw, pv: c.pv,
      url: location.href };
  }
  if (!observer && window.MutationObserver) {
    mutated = 0;
    observer = new MutationObserver(function (records) {
      for (let i = 0; i < records.length; i++) {
        if (!ours(records[i])) {
          mutated = Date.now();
          return;
        }
      }
    });
    observer.observe(document, WATCH);
  }
  if (observer) {
    for (let i = 0; i < path.length; i++) {
      const n = path[i];
      if (typeof ShadowRoot !== 'undefined' && n instanceof ShadowRoot) observer.observe(n, WATCH);
    }
    if (el.shadowRoot) observer.observe(el.shadowRoot, WATCH);
  }
  clearTimeout(deadTimer);
  deadTimer = window.setTimeout(safe(checkDead), DEAD_WAIT);
}

/** Forgets a pending dead-click check (the page is going away). */
export function cancelDead(): void {
  clearTimeout(deadTimer);
  dead = null;
  if (observer) observer.disconnect();
  observer = null;
}

function checkDead(): void {
  const d = dead;
  const watched = !!observer; // without MutationObserver nothing can be judged
  const changed = d && mutated >= d.t;
  cancelDead();
  if (!d || !watched || changed || location.href !== d.url || document.visibilityState === 'hidden') return;
  track('$dead_click', where(d, {}));
}

interface Trail {
  a: string; // the page before the current one
  b: string; // the current page
  t: number; // when the current page was reached
}

let trail: Trail | null = null;

function loadTrail(): Trail | null {
  try {
    return JSON.parse(sessionStorage.getItem('sl_trail') || 'null') || trail;
  } catch (e) {
    return trail;
  }
}

/** Watches page views for u-turns; page is the new page view. */
export function uTurn(page: Page): void {
  const now = Date.now();
  const path = page.path;
  const prev = loadTrail();
  if (prev && prev.b === path) return; // the same page again
  if (prev && prev.a === path && now - prev.t <= U_TURN) {
    track('$u_turn', { from_path: prev.b, to_path: path, seconds: Math.round((now - prev.t) / 100) / 10 }, page);
  }
  trail = { a: prev ? prev.b : '', b: path, t: now };
  try {
    sessionStorage.setItem('sl_trail', JSON.stringify(trail));
  } catch (e) {
    // kept in memory for this page
  }
}
