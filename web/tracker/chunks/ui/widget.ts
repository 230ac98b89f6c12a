// What the survey widget and the feedback tab share: the bridge to the
// core, a host element whose shadow root keeps the page's styles out and
// ours in, small DOM helpers, and posting to Sightline.

import { toJSON } from '../../src/json';

/** What a chunk reads from window.sightline.c (see src/bridge.ts). */
export interface Bridge {
  host: string;
  key: string;
  config: Record<string, unknown>;
  ids(): { anonymousId: string; userId: string; sessionId: string };
  on(kind: 'page' | 'event', fn: (name: string, props: Record<string, unknown>) => void): void;
  selector(el: Element): string;
}

/** Returns the core's bridge, or null when the core did not set one. */
export function bridge(): Bridge | null {
  const w = window as Window & { sightline?: { c?: Bridge } };
  return (w.sightline && w.sightline.c) || null;
}

/** Returns fn wrapped so that it never throws into the page. */
export function guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return function (this: unknown, ...args: A): void {
    try {
      fn.apply(this, args);
    } catch (e) {
      // the widget fails quietly rather than break the host page
    }
  };
}

/** A colour from the site's settings, when it is #rgb or #rrggbb. */
export function colour(v: unknown, fallback: string): string {
  return typeof v === 'string' && /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(v) ? v : fallback;
}

/** Creates an element with attributes (on* values are listeners) and children. */
export function h(tag: string, attrs?: Record<string, unknown>, children?: (Node | string | null)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const k in attrs || {}) {
    const v = (attrs as Record<string, unknown>)[k];
    if (v === undefined || v === null || v === false) continue;
    if (k.slice(0, 2) === 'on' && typeof v === 'function') e.addEventListener(k.slice(2), guard(v as (ev: Event) => void));
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children || []) if (c !== null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

/** Adds a host element named tag to the page and returns its shadow root with css applied. */
export function mount(tag: string, css: string): { host: HTMLElement; root: ShadowRoot } {
  const host = document.createElement(tag);
  const root = host.attachShadow({ mode: 'open' });
  // A constructed style sheet is not subject to the page's
  // Content-Security-Policy for inline styles, a <style> element is.
  const r = root as ShadowRoot & { adoptedStyleSheets?: CSSStyleSheet[] };
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(BASE_CSS + css);
    r.adoptedStyleSheets = [sheet];
  } catch (e) {
    root.appendChild(h('style', {}, [BASE_CSS + css]));
  }
  (document.body || document.documentElement).appendChild(host);
  return { host: host, root: root };
}

/** Styles both widgets start from. Colours come from --bg, --fg and --accent. */
//
// The host element is fixed and zero-sized so that it takes no room in
// the page. Its rules are :host rules with !important, which win over any
// page rule that would match it (for important declarations the shadow
// tree's own styles come first in the cascade), and everything visible
// lives in the shadow root. They are not set inline: "all" expands to
// every CSS property in a style attribute, some 10 KB that a session
// recording would copy each time a widget shows.
const BASE_CSS =
  ':host{all:initial!important;position:fixed!important;top:0!important;left:0!important;width:0!important;' +
  'height:0!important;z-index:2147483000!important;display:block!important}' +
  '*{box-sizing:border-box}' +
  '.box{position:fixed;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;' +
  'background:var(--bg);color:var(--fg);border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.22),0 0 0 1px rgba(0,0,0,.08);' +
  'padding:16px;width:min(380px,calc(100vw - 24px));max-height:calc(100vh - 24px);overflow:auto;text-align:left}' +
  'h2{font-size:17px;font-weight:600;margin:0 28px 12px 0;line-height:1.35}' +
  'p{margin:0 0 12px}' +
  'button{font:inherit;cursor:pointer;border-radius:8px;border:1px solid rgba(127,127,127,.45);background:transparent;' +
  'color:inherit;padding:8px 12px;min-height:40px;min-width:40px}' +
  'button.primary{background:var(--accent);border-color:var(--accent);color:#fff;font-weight:600}' +
  'button[aria-pressed="true"]{background:var(--accent);border-color:var(--accent);color:#fff}' +
  'button:disabled{opacity:.5;cursor:default}' +
  '.close{position:absolute;top:8px;right:8px;border:0;font-size:22px;line-height:1;padding:6px 10px;min-height:36px}' +
  ':focus-visible{outline:3px solid var(--accent);outline-offset:2px}' +
  'textarea{font:inherit;color:inherit;background:transparent;width:100%;min-height:84px;padding:8px;border-radius:8px;' +
  'border:1px solid rgba(127,127,127,.6);resize:vertical}' +
  'label{display:flex;gap:8px;align-items:center;padding:6px 0;cursor:pointer}' +
  'fieldset{border:0;margin:0;padding:0;min-width:0}legend{padding:0}' +
  '.row{display:flex;justify-content:space-between;gap:8px;align-items:center;margin-top:14px}' +
  '.muted{opacity:.75;font-size:13px}' +
  '.error{color:#b91c1c;font-size:13px;margin:8px 0 0}' +
  '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;margin:-1px}';

/** Sets the box's colours from a survey's appearance or the feedback settings. */
export function paint(box: HTMLElement, c: { background?: unknown; text?: unknown; accent?: unknown }): void {
  box.style.setProperty('--bg', colour(c.background, '#ffffff'));
  box.style.setProperty('--fg', colour(c.text, '#111827'));
  box.style.setProperty('--accent', colour(c.accent, '#4f46e5'));
}

/** Posts body as JSON (text/plain, so no preflight) to path?k=KEY; resolves to whether it was accepted. */
export function post(b: Bridge, path: string, body: Record<string, unknown>): Promise<boolean> {
  try {
    return fetch(b.host + path + '?k=' + encodeURIComponent(b.key), {
      method: 'POST',
      body: toJSON(body),
      headers: { 'Content-Type': 'text/plain' },
      credentials: 'omit',
      keepalive: true,
    }).then(
      function (r) {
        return r.ok;
      },
      function () {
        return false;
      },
    );
  } catch (e) {
    return Promise.resolve(false);
  }
}

/** The device type as the server names it, guessed from the user agent and screen. */
export function device(): string {
  const ua = navigator.userAgent;
  if (/iPad|Tablet/i.test(ua) || (/Android/i.test(ua) && !/Mobile/i.test(ua))) return 'tablet';
  if (/Mobi|iPhone|iPod|Android/i.test(ua)) return 'mobile';
  return 'desktop';
}

/** A random ID of 20 letters and digits. */
export function randomID(): string {
  const a = new Uint8Array(20);
  crypto.getRandomValues(a);
  let s = '';
  for (let i = 0; i < a.length; i++) s += 'abcdefghijklmnopqrstuvwxyz0123456789'.charAt(a[i] % 36);
  return s;
}

/** Returns the element that had focus, to give it back on close. */
export function activeElement(): HTMLElement | null {
  const a = document.activeElement;
  return a && a !== document.body && typeof (a as HTMLElement).focus === 'function' ? (a as HTMLElement) : null;
}
