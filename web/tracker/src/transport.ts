// Transport: a bounded queue of messages sent in batches to /t/batch.
//
// - Messages wait up to DELAY ms so that bursts (a page view and its first
//   clicks) travel together; MAX_BATCH messages send at once.
// - fetch with keepalive, so a batch in flight survives navigation; when
//   the page is hidden everything queued goes with sendBeacon.
// - A failed batch (network error, 408, 429, 5xx) goes back to the front of
//   the queue and is retried after 1, 2, 4 … 60 s (or the server's
//   Retry-After), at most MAX_ATTEMPTS times. The server drops repeats by
//   messageId, so a retry of a batch that did arrive stores nothing twice.
// - Other 4xx answers mean the batch will never be accepted: it is dropped.
// - The queue holds at most MAX_QUEUE messages; when full, the oldest go.
// - The body is text/plain so no CORS preflight is needed.
// - Every message is scrubbed (scrub.ts) as it is queued; while paused,
//   messages wait unscrubbed, so that the site's allow-list, which comes
//   with its config, applies to them too.

import { safe } from './safe';
import { toJSON } from './json';
import { scrubMessage } from './scrub';

const DELAY = 1000;
const MAX_BATCH = 50;
const MAX_QUEUE = 500;
const MAX_ATTEMPTS = 10;
const MAX_BODY = 48 << 10; // keepalive and sendBeacon allow 64 KiB in flight
const MAX_MESSAGE = 32 << 10; // the server's limit for one message

let url = '';
let context = '{}';
let queue: string[] = [];
let timer = 0;
let inflight = false;
let attempts = 0;
let paused = false;
let held: object[] = [];

/**
 * Holds queued messages in memory, unsent, until resume: while the site's
 * config has not arrived, nothing leaves the page.
 */
export function pause(): void {
  paused = true;
}

/** Sends what pause held, and everything after it. */
export function resume(): void {
  paused = false;
  const h = held;
  held = [];
  for (let i = 0; i < h.length; i++) push(h[i]);
  schedule(0);
}

/**
 * Sets where batches go and the context sent once per batch (library,
 * locale, time zone, screen), which the server applies to every message.
 */
export function configure(endpoint: string, ctx: object): void {
  url = endpoint;
  context = toJSON(ctx);
}

/** Queues a message. */
export function push(msg: object): void {
  if (paused) {
    held.push(msg);
    if (held.length > MAX_QUEUE) held.splice(0, held.length - MAX_QUEUE);
    return;
  }
  const s = toJSON(scrubMessage(msg as Record<string, unknown>));
  if (s.length > MAX_MESSAGE) return; // the server would refuse it
  queue.push(s);
  if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
  schedule(queue.length >= MAX_BATCH ? 0 : DELAY);
}

/** Forgets everything queued (opt-out, consent withdrawn). */
export function clear(): void {
  queue = [];
  held = [];
  clearTimeout(timer);
  timer = 0;
}

function schedule(ms: number): void {
  if (!timer && !inflight && !paused && queue.length) timer = window.setTimeout(send, ms);
}

// take removes the next batch from the queue: up to MAX_BATCH messages and
// MAX_BODY bytes (characters: close enough, and on the safe side for ASCII).
function take(): string[] {
  let n = 0;
  let size = 0;
  while (n < queue.length && n < MAX_BATCH && (n === 0 || size + queue[n].length < MAX_BODY)) {
    size += queue[n].length + 1;
    n++;
  }
  return queue.splice(0, n);
}

function body(batch: string[]): string {
  return '{"batch":[' + batch.join(',') + '],"sentAt":"' + new Date().toISOString() + '","context":' + context + '}';
}

const send = safe(function send(): void {
  timer = 0;
  if (inflight || paused || !queue.length || !url) return;
  const batch = take();
  inflight = true;
  fetch(url, {
    method: 'POST',
    body: body(batch),
    keepalive: true,
    credentials: 'omit',
    headers: { 'Content-Type': 'text/plain' },
  }).then(
    safe(function (r: Response) {
      inflight = false;
      const s = r.status;
      if (s === 408 || s === 429 || s >= 500) {
        retry(batch, Number(r.headers.get('Retry-After')) * 1000);
      } else {
        attempts = 0; // accepted, or refused for good
        schedule(0);
      }
    }),
    safe(function () {
      inflight = false;
      retry(batch, 0);
    }),
  );
});

function retry(batch: string[], after: number): void {
  if (++attempts > MAX_ATTEMPTS) {
    attempts = 0;
  } else {
    queue = batch.concat(queue);
    if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
  }
  const backoff = Math.min(60000, 1000 * Math.pow(2, attempts - 1)) * (0.5 + Math.random() / 2);
  clearTimeout(timer);
  timer = window.setTimeout(send, after > 0 ? Math.min(after, 300000) : backoff);
}

/**
 * Sends everything queued now with sendBeacon (or keepalive fetch where it
 * is missing or refuses), because the page is being hidden and may never
 * run again.
 */
export function flush(): void {
  clearTimeout(timer);
  timer = 0;
  while (queue.length && url && !paused) {
    const data = body(take());
    let sent = false;
    try {
      sent = !!navigator.sendBeacon && navigator.sendBeacon(url, new Blob([data], { type: 'text/plain' }));
    } catch (e) {
      // sendBeacon throws on some browsers for large bodies
    }
    if (!sent) {
      try {
        fetch(url, { method: 'POST', body: data, keepalive: true, credentials: 'omit',
          headers: { 'Content-Type': 'text/plain' } }).catch(function () {});
      } catch (e) {
        // nothing more can be done while the page goes away
      }
    }
  }
}
