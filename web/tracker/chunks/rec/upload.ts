// Upload: the recorder's events are buffered as JSON text and cut into
// chunks, sent in order to POST /t/rec?k=KEY (docs/recordings.md):
//
// - a chunk is cut every INTERVAL ms, earlier when the buffer reaches
//   MAX_BUFFER characters, and when the page is hidden;
// - the body is text/plain (no CORS preflight), gzipped with
//   CompressionStream where the browser has it (flagged &z=gzip);
// - seq keeps growing across the page loads of a recording: the next one
//   is kept in sessionStorage;
// - one chunk is in flight at a time; a failure (network, 408, 429
//   overloaded or too_many_requests_from_client, 5xx) is retried after 1, 2, 4 … 60 s (or Retry-After), at
//   most MAX_ATTEMPTS times; other 4xx answers drop the chunk; the answers
//   that say recording is off (403 recording_disabled, 429
//   quota_exceeded, 409 recording_deleted, 401, 403 origin_not_allowed)
//   stop the recorder;
// - at most MAX_PENDING characters wait to be sent; past that the
//   recording of this page stops rather than grow without bound;
// - when the page is hidden, what is waiting goes at once with
//   sendBeacon (or keepalive fetch), uncompressed, in pieces small
//   enough for them.

import { safe } from '../../src/safe';
import { gzip } from './gzip';

const INTERVAL = 10000;
const MAX_BUFFER = 256 << 10; // characters of events before a chunk is cut early
const MAX_PENDING = 4 << 20; // characters waiting to be sent, at most
const MAX_ATTEMPTS = 10;
const BEACON_MAX = 60 << 10; // sendBeacon and keepalive fetch allow 64 KiB in flight
const MAX_URL = 4000;
const SEQ_KEY = 'sl_rec_seq';

/** Who a chunk belongs to, fixed when it is cut. */
export interface Identity {
  recording: string;
  anonymousId: string;
  userId: string;
}

interface Chunk {
  head: string; // the body's fields before "sentAt"
  events: string[];
  size: number;
  attempts: number;
}

let endpoint = '';
let onStop: (code: string) => void = function () {};
let buf: string[] = [];
let times: number[] = []; // each buffered event's timestamp
let bufSize = 0;
let bufStart = 0;
let bufEnd = 0;
let queue: Chunk[] = [];
let pending = 0;
let inflight = false;
let timer = 0;
let stopped = false;

/**
 * Sets where chunks go and what to do when the server refuses the
 * recording for good (the code it answered).
 */
export function configure(url: string, stop: (code: string) => void): void {
  endpoint = url;
  onStop = stop;
}

/** Buffers one rrweb event; reports false when the buffer is full enough to cut. */
export function add(e: { timestamp: number }): boolean {
  if (stopped) return true;
  const s = JSON.stringify(e);
  if (!buf.length) bufStart = e.timestamp;
  bufEnd = Math.max(bufEnd, e.timestamp);
  buf.push(s);
  times.push(e.timestamp);
  bufSize += s.length + 1;
  return bufSize < MAX_BUFFER;
}

function sessionGet(name: string): string {
  try {
    return window.sessionStorage.getItem(name) || '';
  } catch (e) {
    return '';
  }
}

function sessionSet(name: string, value: string): void {
  try {
    window.sessionStorage.setItem(name, value);
  } catch (e) {
    // storage disabled: seq restarts with the next page load, and the
    // server keeps the first copy of each
  }
}

// nextSeq returns the recording's next chunk number and counts it.
function nextSeq(recording: string): number {
  const kept = sessionGet(SEQ_KEY).split(':');
  const n = kept[0] === recording ? Number(kept[1]) || 0 : 0;
  sessionSet(SEQ_KEY, recording + ':' + (n + 1));
  return n;
}

/** Cuts what is buffered into a chunk of who's recording, queued to send. */
export function cut(who: Identity): void {
  if (stopped || !buf.length) return;
  cutEvents(who, buf, bufStart, bufEnd);
  clearBuffer();
}

function clearBuffer(): void {
  buf = [];
  times = [];
  bufSize = 0;
  bufEnd = 0;
}

function cutEvents(who: Identity, events: string[], start: number, end: number): void {
  let head = '{"recording":' + JSON.stringify(who.recording) + ',"anonymousId":' + JSON.stringify(who.anonymousId);
  if (who.userId) head += ',"userId":' + JSON.stringify(who.userId);
  head += ',"seq":' + nextSeq(who.recording) + ',"start":' + start + ',"end":' + Math.max(start, end) +
    ',"url":' + JSON.stringify(location.href.slice(0, MAX_URL));
  let size = head.length;
  for (let i = 0; i < events.length; i++) size += events[i].length + 1;
  queue.push({ head: head, events: events, size: size, attempts: 0 });
  pending += size;
  if (pending > MAX_PENDING) stop('too_much_pending');
}

function body(c: Chunk): string {
  return c.head + ',"sentAt":' + Date.now() + ',"events":[' + c.events.join(',') + ']}';
}

/** Sends what is queued, one chunk at a time, starting now. */
export function kick(): void {
  schedule(0);
}

function schedule(ms: number): void {
  if (!timer && !inflight && !stopped && queue.length) timer = window.setTimeout(send, ms);
}

function post(data: BodyInit, size: number, zipped: boolean): Promise<Response> {
  return fetch(endpoint + (zipped ? '&z=gzip' : ''), {
    method: 'POST',
    body: data,
    keepalive: size < BEACON_MAX,
    credentials: 'omit',
    headers: { 'Content-Type': 'text/plain' },
  });
}

const send = safe(function send(): void {
  timer = 0;
  if (inflight || stopped || !queue.length || !endpoint) return;
  const c = queue[0];
  const text = body(c);
  inflight = true;
  const z = gzip(text);
  const sent = z
    ? z.then(function (b) {
        return post(b, b.byteLength, true);
      })
    : post(text, text.length, false);
  sent.then(safe(answered(c)), safe(function () {
    inflight = false;
    retry(c, 0);
  }));
});

// answered handles the server's answer to chunk c.
function answered(c: Chunk): (r: Response) => void {
  return function (r: Response): void {
    inflight = false;
    const s = r.status;
    if (s === 429 || s === 403 || s === 409 || s === 401) {
      r.json().then(
        safe(function (b: { error?: { code?: string } }) {
          const code = (b && b.error && b.error.code) || 'http_' + s;
          if (code === 'overloaded' || code === 'too_many_requests_from_client') {
            retry(c, Number(r.headers.get('Retry-After')) * 1000);
          } else stop(code);
        }),
        safe(function () {
          stop('http_' + s);
        }),
      );
      return;
    }
    if (s === 408 || s >= 500) return retry(c, Number(r.headers.get('Retry-After')) * 1000);
    done(c); // stored, a duplicate, or refused for good (400, 413)
    schedule(0);
  };
}

function done(c: Chunk): void {
  const i = queue.indexOf(c);
  if (i >= 0) {
    queue.splice(i, 1);
    pending -= c.size;
  }
}

function retry(c: Chunk, after: number): void {
  if (stopped) return;
  if (++c.attempts >= MAX_ATTEMPTS) done(c); // given up: the player skips a missing seq
  const backoff = Math.min(60000, 1000 * Math.pow(2, c.attempts - 1)) * (0.5 + Math.random() / 2);
  clearTimeout(timer);
  timer = window.setTimeout(send, after > 0 ? Math.min(after, 300000) : backoff);
}

/**
 * Sends everything waiting now, because the page is being hidden and may
 * never run again: uncompressed (compressing takes a promise a closing
 * page may not keep), with sendBeacon or keepalive fetch, in chunks that
 * fit their 64 KiB.
 */
export function flush(who: Identity): void {
  if (stopped) return;
  // The buffer, in pieces that fit.
  let from = 0;
  let size = 0;
  for (let i = 0; i <= buf.length; i++) {
    if (i > from && (i === buf.length || size + buf[i].length > BEACON_MAX - 1024)) {
      const span = times.slice(from, i);
      cutEvents(who, buf.slice(from, i), Math.min.apply(null, span), Math.max.apply(null, span));
      from = i;
      size = 0;
    }
    if (i < buf.length) size += buf[i].length + 1;
  }
  clearBuffer();
  clearTimeout(timer);
  timer = 0;
  // Every queued chunk but the one in flight (which keepalive carries).
  const waiting = queue.slice(inflight ? 1 : 0);
  for (let i = 0; i < waiting.length; i++) {
    const c = waiting[i];
    const text = body(c);
    if (text.length > BEACON_MAX) continue; // too big for a closing page: sent later if the page lives on
    let ok = false;
    try {
      ok = !!navigator.sendBeacon && navigator.sendBeacon(endpoint, new Blob([text], { type: 'text/plain' }));
    } catch (e) {
      // some browsers throw for large bodies
    }
    if (!ok) {
      try {
        post(text, text.length, false).catch(function () {});
        ok = true;
      } catch (e) {
        // nothing more can be done while the page goes away
      }
    }
    if (ok) done(c);
  }
  schedule(INTERVAL);
}

/** Stops uploading for good and forgets what waits (the server said no, or too much waits). */
export function stop(code: string): void {
  if (stopped) return;
  stopped = true;
  clearBuffer();
  queue = [];
  pending = 0;
  clearTimeout(timer);
  onStop(code);
}

/** How often a chunk is cut. */
export const interval = INTERVAL;
