// Automatic capture: page views (on load, on single-page-app history
// changes, on restore from the back-forward cache), clicks, the deepest
// scroll of each page view, JavaScript errors, and the frustration signals
// built on them. Every listener is passive and does a few small reads, so
// no event costs the host page more than a fraction of a millisecond.

import { emit, track, currentPage, setReferrer, isActive, Page } from './core';
import { selector } from './selector';
import { rageClick, endRage, deadClick, cancelDead, uTurn } from './frustration';
import * as transport from './transport';
import { newID } from './storage';
import { safe } from './safe';
import { notify } from './bridge';

const MAX_ERRORS = 20; // per page view
const NAV_SETTLE = 50; // ms after a history change, so the app can set the title

interface PageView {
  id: string;
  page: Page;
  depth: number; // deepest bottom edge of the viewport seen, px
  height: number; // page height then, px
  sent: number; // depth last sent
  vw: number; // the viewport when the page view started, px
  vh: number;
  errors: Record<string, 1>;
  errorCount: number;
}

let pv: PageView | null = null;
let autoPages = true;
let installed = false;

/** Records a page view with optional extra properties. */
export function pageview(props?: Record<string, unknown>): void {
  if (!isActive()) return;
  if (pv) {
    endPageview();
    setReferrer(pv.page.url);
  }
  const page = currentPage();
  pv = { id: newID(), page: page, depth: 0, height: 0, sent: 0, errors: {}, errorCount: 0,
    vw: window.innerWidth, vh: window.innerHeight };
  measureScroll();
  const p: Record<string, unknown> = {
    url: page.url, path: page.path, title: page.title, referrer: page.referrer, search: page.search,
    screen_width: screen.width, screen_height: screen.height,
    viewport_width: window.innerWidth, viewport_height: window.innerHeight,
  };
  if (props && typeof props === 'object') for (const k in props) p[k] = props[k];
  p.pageview_id = pv.id;
  emit('page', { properties: p }, page);
  uTurn(page);
  notify('page', page.path, p);
}

// endPageview sends the page view's scroll depth if it grew since last sent.
// It runs when the next page view starts and whenever the page is hidden,
// so the deepest value wins even when the visitor never comes back.
function endPageview(): void {
  if (!pv || pv.depth <= pv.sent) return;
  pv.sent = pv.depth;
  const h = Math.max(pv.height, 1);
  track('$scroll', { depth: Math.min(100, Math.round((pv.depth / h) * 100)), depth_px: Math.round(pv.depth),
    page_height: Math.round(pv.height), pageview_id: pv.id, viewport_width: pv.vw, viewport_height: pv.vh }, pv.page);
}

let scrollTimer = 0;

function measureScroll(): void {
  scrollTimer = 0;
  if (!pv) return;
  const d = document.documentElement;
  const bottom = window.scrollY + window.innerHeight;
  if (bottom > pv.depth) {
    pv.depth = bottom;
    pv.height = Math.max(d.scrollHeight, document.body ? document.body.scrollHeight : 0);
  }
}

// onScroll measures at most every 200 ms: reading scrollHeight may force a
// layout, which is cheap once but not on every scroll event.
function onScroll(): void {
  if (!scrollTimer) scrollTimer = window.setTimeout(safe(measureScroll), 200);
}

// The host elements of the tracker's widgets (chunks/ui/widget.ts mount).
const OWN_WIDGETS = 'sightline-survey,sightline-feedback';

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function onClick(e: MouseEvent): void {
  // Only the visitor's clicks: element.click() from scripts is not one.
  if (!isActive() || !e.isTrusted || !(e.target instanceof Element)) return;
  // The survey widget and the feedback tab are the tracker's own: a
  // visitor answering a survey is not clicking on the site.
  if (e.target.closest(OWN_WIDGETS)) return;
  // A click inside an open shadow root reaches the document retargeted at
  // its host: the element clicked is the first of the composed path.
  const path = e.composedPath ? e.composedPath() : [];
  const el = path[0] instanceof Element ? path[0] : e.target;
  const sel = selector(el);
  const r = el.getBoundingClientRect();
  const ox = round3(r.width ? Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)) : 0);
  const oy = round3(r.height ? Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)) : 0);
  const c = { t: Date.now(), x: e.clientX, y: e.clientY, px: Math.round(e.pageX), py: Math.round(e.pageY), sel: sel,
    ox: ox, oy: oy, vw: window.innerWidth, pv: pv ? pv.id : '' };
  track('$click', {
    selector: sel,
    tag: el.tagName.toLowerCase(),
    page_x: c.px,
    page_y: c.py,
    offset_x: ox,
    offset_y: oy,
    viewport_width: c.vw,
    viewport_height: window.innerHeight,
    pageview_id: c.pv,
  });
  rageClick(c);
  deadClick(el, c, path);
}

// stripURL keeps a script's address without its query and fragment, which
// may carry tokens.
function stripURL(u: string): string {
  return u.split(/[?#]/)[0];
}

function reportError(message: string, source: string, line: number, column: number): void {
  if (!isActive() || !pv) return;
  message = String(message || 'unknown error').slice(0, 300);
  source = stripURL(String(source || '')).slice(0, 500);
  const key = message + '|' + source + '|' + line;
  if (pv.errors[key] || pv.errorCount >= MAX_ERRORS) return;
  pv.errors[key] = 1;
  pv.errorCount++;
  track('$error', { message: message, source: source, line: line || 0, column: column || 0 });
}

function onError(e: ErrorEvent): void {
  // Failed images and scripts also fire "error", but not as ErrorEvent and
  // not at window in the bubbling phase.
  if (e instanceof ErrorEvent) reportError(e.message, e.filename, e.lineno, e.colno);
}

function onRejection(e: PromiseRejectionEvent): void {
  const r = e.reason;
  // Only an Error's name and message: another value may be anything,
  // including the visitor's data.
  reportError(r instanceof Error ? r.name + ': ' + r.message : 'Unhandled rejection (not an Error)', '', 0, 0);
}

function onHistory(): void {
  setTimeout(
    safe(function () {
      if (autoPages && pv && location.pathname !== pv.page.path) pageview();
    }),
    NAV_SETTLE,
  );
}

function onHide(): void {
  endRage();
  endPageview();
  transport.flush();
}

function patchHistory(name: 'pushState' | 'replaceState'): void {
  const original = history[name];
  if (typeof original !== 'function') return;
  const after = safe(onHistory);
  history[name] = function (this: History) {
    // The app's call runs untouched; only afterwards do we look.
    const r = original.apply(this, arguments as unknown as Parameters<History['pushState']>);
    after();
    return r;
  };
}

/**
 * Starts automatic capture; pages is false when the site sends its own
 * page views with sightline('page').
 */
export function install(pages: boolean): void {
  autoPages = pages;
  if (installed) return;
  installed = true;
  patchHistory('pushState');
  patchHistory('replaceState');
  const on = function (target: EventTarget, type: string, fn: (e: never) => void): void {
    target.addEventListener(type, safe(fn) as EventListener, { capture: true, passive: true });
  };
  on(window, 'popstate', onHistory);
  on(window, 'scroll', onScroll);
  on(document, 'click', onClick);
  on(window, 'pagehide', function () {
    cancelDead();
    onHide();
  });
  on(document, 'visibilitychange', function () {
    if (document.visibilityState === 'hidden') onHide();
  });
  on(window, 'pageshow', function (e: PageTransitionEvent) {
    // Restored from the back-forward cache: the script does not run again,
    // but it is a new page view.
    if (e.persisted && autoPages) {
      pv = null;
      pageview();
    }
  });
  window.addEventListener('error', safe(onError) as EventListener);
  window.addEventListener('unhandledrejection', safe(onRejection) as EventListener);
}
