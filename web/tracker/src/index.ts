// Sightline's browser tracker. The snippet defines window.sightline as a
// stub that queues its calls and loads this script; here the stub is
// replaced by the real command function and its queue is replayed.
//
//   sightline('init', 'WRITE_KEY', {respectDNT: true})  // overrides the site's setting
//   sightline('identify', 'u_123', {plan: 'pro'})   // or null: anonymous
//   sightline('event', 'export', {format: 'csv'})
//   sightline('page')                               // automatic by default
//   sightline('experiment', 'onboarding_v2', 'B')   // the user saw variant B
//   sightline('reset')                              // logout
//   sightline('consent', true | false), sightline('optout'), sightline('optin')
//
// docs/tracker.md describes every command, option and captured event.

import * as core from './core';
import * as transport from './transport';
import { install, pageview } from './capture';
import { localGet, localSet } from './storage';
import { safe, setDebug } from './safe';
import { loadChunk } from './chunks';
import * as bridge from './bridge';
import { maybeRecord, RecordingConfig } from './recording';
import { keepParams } from './scrub';

/** Options of sightline('init', key, options). */
interface Options {
  host?: string; // Sightline's address; default: where this script came from
  requireConsent?: boolean; // capture nothing until sightline('consent', true)
  respectDNT?: boolean; // capture nothing when the browser asks not to be tracked (default: the site's setting)
  pages?: boolean; // automatic page views (default true)
  debug?: boolean; // log swallowed errors to the console
}

type Args = ArrayLike<unknown>;
type Command = ((...args: unknown[]) => void) & { q?: Args[]; v?: string };

const MAX_HELD = 100;

const CONFIG_TIMEOUT = 5000;

let key = '';
let options: Options = {};
let held: Args[] = [];
let scriptOrigin = '';
// The site's settings from /t/config: configured once it arrived (or
// failed, which keeps the snippet's options alone in charge).
let configured = false;
let siteDNT = false;
// The site's recording settings, applied whenever capture starts.
let recording: RecordingConfig | undefined;
let host = '';

try {
  const s = document.currentScript as HTMLScriptElement | null;
  if (s && s.src) scriptOrigin = new URL(s.src).origin;
} catch (e) {
  // an inline copy of the script: the host option must say where to send
}

function dnt(): boolean {
  const n = navigator as Navigator & { msDoNotTrack?: string; globalPrivacyControl?: boolean };
  const w = window as Window & { doNotTrack?: string };
  return n.doNotTrack === '1' || w.doNotTrack === '1' || n.msDoNotTrack === '1' || n.globalPrivacyControl === true;
}

// honoursDNT reports whether the site honours Do-Not-Track: the snippet's
// respectDNT when it sets one, else the site's setting.
function honoursDNT(): boolean {
  return options.respectDNT !== undefined ? !!options.respectDNT : siteDNT;
}

// blocked reports whether the visitor or their browser said no: opt-out,
// consent refused, or Do-Not-Track when the site honours it.
function blocked(): boolean {
  return localGet('sl_optout') === '1' || localGet('sl_consent') === '0' || (honoursDNT() && dnt());
}

// undecided reports whether a browser sending Do-Not-Track must wait for
// the site's config to know whether it may be tracked at all: until then
// not even the visitor ID is written.
function undecided(): boolean {
  return !configured && options.respectDNT === undefined && dnt();
}

// allowed reports whether capture may run now.
function allowed(): boolean {
  return !!key && !blocked() && !undecided() && (!options.requireConsent || localGet('sl_consent') === '1');
}

/** The site's settings as /t/config sends them. */
interface SiteConfig {
  respect_dnt?: unknown;
  load?: unknown; // names of chunks the page should load
  recording?: RecordingConfig;
  keep_params?: unknown; // query parameters sent unscrubbed (src/scrub.ts)
}

// loadConfig reads the site's settings from /t/config. Meanwhile captured
// messages wait in memory, unsent; when it fails (or takes more than
// CONFIG_TIMEOUT) the snippet's options alone apply.
function loadConfig(host: string): void {
  transport.pause();
  const done = safe(function (c: SiteConfig | null): void {
    if (configured) return;
    configured = true;
    siteDNT = !!(c && c.respect_dnt === true);
    recording = (c && c.recording) || undefined;
    keepParams(c && c.keep_params);
    if (blocked()) stop();
    transport.resume();
    start();
    if (core.isActive()) maybeRecord(host, key, recording, !!options.debug);
    const load = c && c.load;
    if (core.isActive() && Array.isArray(load)) for (let i = 0; i < load.length; i++) loadChunk(host, String(load[i]));
    if (c) bridge.configure(host, key, c as Record<string, unknown>);
    if (core.isActive()) bridge.startChunks();
  });
  const fail = function (): void {
    done(null);
  };
  window.setTimeout(fail, CONFIG_TIMEOUT);
  try {
    fetch(host + '/t/config?k=' + encodeURIComponent(key), { credentials: 'omit' })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(done, fail);
  } catch (e) {
    fail();
  }
}

function start(): void {
  if (core.isActive() || !allowed()) return;
  core.activate();
  install(options.pages !== false);
  if (options.pages !== false) pageview();
  bridge.startChunks();
  const h = held;
  held = [];
  for (let i = 0; i < h.length; i++) run(h[i]);
  if (configured) maybeRecord(host, key, recording, !!options.debug);
}

function stop(): void {
  held = [];
  core.deactivate();
}

function init(k: unknown, o: unknown): void {
  if (key || typeof k !== 'string' || !k) return;
  key = k;
  options = (o && typeof o === 'object' ? o : {}) as Options;
  setDebug(!!options.debug);
  host = (options.host || scriptOrigin).replace(/\/+$/, '');
  transport.configure(host + '/t/batch?k=' + encodeURIComponent(key), {
    library: { name: 'sightline.js', version: core.version },
    locale: navigator.language,
    timezone: timezone(),
    screen: { width: screen.width, height: screen.height, density: window.devicePixelRatio },
  });
  loadConfig(host);
  start();
}

function timezone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch (e) {
    return '';
  }
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

// run executes one command.
function run(a: Args): void {
  const name = a[0];
  switch (name) {
    case 'init':
      return init(a[1], a[2]);
    case 'consent':
      localSet('sl_consent', a[1] === false ? '0' : '1');
      return a[1] === false ? stop() : start();
    case 'optout':
      localSet('sl_optout', '1');
      return stop();
    case 'optin':
      localSet('sl_optout', null);
      return start();
  }
  if (!core.isActive()) {
    // Before init, or waiting for consent: kept in memory only, and only
    // while the answer may still be yes.
    if (!blocked() && held.length < MAX_HELD) held.push(Array.prototype.slice.call(a));
    return;
  }
  switch (name) {
    case 'identify':
      core.setUser(a[1]);
      return core.emit('identify', { traits: obj(a[2]) });
    case 'event':
      if (typeof a[1] === 'string' && a[1]) {
        core.track(a[1], obj(a[2]));
        bridge.notify('event', a[1], obj(a[2]));
      }
      return;
    case 'page':
      return pageview(obj(a[1]));
    case 'experiment':
      return experiment(a[1], a[2]);
    case 'reset':
      return core.reset();
  }
}

// exposed holds the experiments and variants already reported on this
// page, so that a component rendering twice reports its exposure once.
const exposed: Record<string, 1> = {};

// experiment reports that the user saw a variant of an experiment: the
// $experiment_viewed event that experiments read exposure from (the
// first one counts).
function experiment(key: unknown, variant: unknown): void {
  if (typeof key !== 'string' || !key || typeof variant !== 'string' || !variant) return;
  const seen = key + '\u0000' + variant;
  if (exposed[seen]) return;
  exposed[seen] = 1;
  const props = { experiment: key, variant: variant };
  core.track('$experiment_viewed', props);
  bridge.notify('event', '$experiment_viewed', props);
}

// hotjar handles the hosted tool's calls: identify and event map to ours;
// anything else is left to the tool, if it is there.
function hotjar(a: Args): void {
  if (a[0] === 'identify') run(['identify', a[1], a[2]]);
  else if (a[0] === 'event') run(['event', a[1]]);
}

// adoptHotjar takes over window.hj. Without the hosted tool on the page
// (no _hjSettings) its stub's queue is drained and hj replaced, so a site
// that switched keeps working unchanged. With the tool still there, its
// queue is read but left for it, and our hj passes every call on.
function adoptHotjar(): void {
  const w = window as Window & { hj?: Command & { sl?: 1 }; _hjSettings?: unknown };
  const prev = w.hj;
  if (prev && prev.sl) return;
  const both = !!w._hjSettings && typeof prev === 'function';
  const q = (prev && prev.q) || [];
  const hj = function (this: unknown) {
    safe(hotjar)(arguments);
    if (both) return (prev as Command).apply(this, arguments as unknown as unknown[]);
  } as Command & { sl?: 1 };
  hj.sl = 1;
  if (both) hj.q = q;
  w.hj = hj;
  for (let i = 0; i < q.length; i++) safe(hotjar)(q[i]);
}

function boot(): void {
  const w = window as Window & { sightline?: Command };
  const stub = w.sightline;
  if (stub && stub.v) return; // loaded twice
  const api: Command = function () {
    safe(run)(arguments);
  };
  api.v = core.version;
  w.sightline = api;
  const q = (stub && stub.q) || [];
  // init first, wherever the page put it, then the rest in order.
  for (let i = 0; i < q.length; i++) if (q[i][0] === 'init') safe(run)(q[i]);
  for (let i = 0; i < q.length; i++) if (q[i][0] !== 'init') safe(run)(q[i]);
  adoptHotjar();
  // The hosted tool's stub may be defined after this script ran.
  window.addEventListener('load', safe(adoptHotjar));
}

safe(boot)();
