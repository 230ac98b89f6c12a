// The tracker's state: who the visitor is, their session, and how a message
// is built before it is queued.
//
// Identity is kept first-party, in cookies set by the script on the host
// page's own domain (see storage.ts for the fallbacks):
//   sl_vid  the visitor's anonymous ID (random, 1 year)
//   sl_uid  the user ID from the last identify (1 year; removed by reset)
//   sl_ses  the session: ID, start and last activity (expires after 4 h)

import * as storage from './storage';
import * as transport from './transport';

declare const VERSION: string;

/** The tracker's version, set by the build. */
export const version = VERSION;

/** A new session starts after this long without activity… */
export const SESSION_IDLE = 30 * 60 * 1000;
/** …or when the current one is this old. */
export const SESSION_MAX = 4 * 60 * 60 * 1000;

const YEAR = 365 * 24 * 3600;

/** Page describes a page as Segment's context.page does. */
export interface Page {
  url: string;
  path: string;
  title: string;
  referrer: string;
  search: string;
}

let active = false;
let visitorID = '';
let userID = '';
let referrer = document.referrer;

/** Reports whether capture is on (initialised, consented, not opted out). */
export function isActive(): boolean {
  return active;
}

/** Turns capture on, reading (or creating) the visitor's identity. */
export function activate(): void {
  visitorID = storage.get('sl_vid') || storage.newID();
  storage.set('sl_vid', visitorID, YEAR);
  userID = storage.get('sl_uid') || '';
  active = true;
}

/** Turns capture off and forgets the visitor: nothing stays on the device. */
export function deactivate(): void {
  active = false;
  transport.clear();
  storage.del('sl_vid');
  storage.del('sl_uid');
  storage.del('sl_ses');
  ses.id = '';
}

/** Returns the visitor's IDs and the current session ID (empty before the first message). */
export function identity(): { anonymousId: string; userId: string; sessionId: string } {
  return { anonymousId: visitorID, userId: userID, sessionId: ses.id };
}

/** Sets the user ID; null or empty keeps the current one. */
export function setUser(id: unknown): void {
  if (id === null || id === undefined || id === '') return;
  userID = String(id);
  storage.set('sl_uid', userID, YEAR);
}

/** Starts over as a new anonymous visitor (logout). */
export function reset(): void {
  userID = '';
  storage.del('sl_uid');
  storage.del('sl_ses');
  ses.id = '';
  visitorID = storage.newID();
  storage.set('sl_vid', visitorID, YEAR);
}

/** Sets the referrer that page descriptions carry from now on. */
export function setReferrer(r: string): void {
  referrer = r;
}

/** Describes the current page. */
export function currentPage(): Page {
  return {
    url: location.href,
    path: location.pathname,
    title: document.title,
    referrer: referrer,
    search: location.search,
  };
}

// The session as last read or written; the cookie is the truth across
// tabs, but reading and writing document.cookie costs a synchronous trip to
// the browser's cookie store, so it is done at most every SESSION_SYNC ms.
const SESSION_SYNC = 5000;
let ses = { id: '', start: 0, last: 0 };
let sesSynced = -SESSION_SYNC;

// session returns the session ID, starting a new session after SESSION_IDLE
// without activity or when the current one is older than SESSION_MAX.
function session(now: number): string {
  const sync = now - sesSynced >= SESSION_SYNC;
  if (sync) {
    const parts = (storage.get('sl_ses') || '').split('.');
    ses = { id: parts[0], start: Number(parts[1]), last: Number(parts[2]) };
  }
  const fresh = !ses.id || !(now - ses.last < SESSION_IDLE) || !(now - ses.start < SESSION_MAX);
  if (fresh) ses = { id: storage.newID().slice(0, 16), start: now, last: now };
  ses.last = now;
  if (sync || fresh) {
    storage.set('sl_ses', ses.id + '.' + ses.start + '.' + now, SESSION_MAX / 1000);
    sesSynced = now;
  }
  return ses.id;
}

/**
 * Returns the session's ID without counting as activity (the recorder
 * asks for it with each chunk); when the session has run out, a new one
 * starts, as the next message would start it.
 */
export function sessionID(): string {
  if (!active) return '';
  const now = Date.now();
  const p = (storage.get('sl_ses') || '').split('.');
  const last = Math.max(Number(p[2]), p[0] === ses.id ? ses.last : 0);
  if (p[0] && now - last < SESSION_IDLE && now - Number(p[1]) < SESSION_MAX) return p[0];
  return session(now);
}

/** The visitor's anonymous ID ('' while capture is off). */
export function anonymousID(): string {
  return active ? visitorID : '';
}

/** The user ID from the last identify, or ''. */
export function userIDOf(): string {
  return active ? userID : '';
}

// campaign reads the UTM tags of a query string, as Segment's
// context.campaign names them.
function campaign(search: string): Record<string, string> | undefined {
  const q = new URLSearchParams(search);
  let out: Record<string, string> | undefined;
  const names: Record<string, string> = { source: 'source', medium: 'medium', campaign: 'name', term: 'term', content: 'content' };
  for (const k in names) {
    const v = q.get('utm_' + k);
    if (v) (out = out || {})[names[k]] = v;
  }
  return out;
}

/**
 * Queues a Segment-spec message of the given type with fields (event,
 * properties, traits…). page describes where it happened; by default the
 * current page.
 */
export function emit(type: string, fields: Record<string, unknown>, page?: Page): void {
  if (!active) return;
  const now = Date.now();
  const p = page || currentPage();
  const ctx: Record<string, unknown> = { page: p, sessionId: session(now) };
  const utm = campaign(p.search);
  if (utm) ctx.campaign = utm;
  const m: Record<string, unknown> = {
    type: type,
    messageId: storage.newID(),
    timestamp: new Date(now).toISOString(),
    anonymousId: visitorID,
    context: ctx,
  };
  if (userID) m.userId = userID;
  for (const k in fields) m[k] = fields[k];
  transport.push(m);
}

/** Queues a track message: an event with properties. */
export function track(name: string, properties: Record<string, unknown>, page?: Page): void {
  emit('track', { event: name, properties: properties }, page);
}
