// What the tracker never lets leave the page in an address or a title.
// A form sent by GET puts its fields in the query string, so a page's URL
// may carry a card number, a password or an account number; the tracker
// scrubs every URL it sends (context.page's url, path, search and
// referrer, the same properties of page views, and the recorder's Meta
// href) and the title before anything is queued (transport.ts):
//
//   - the values of query (and fragment) parameters whose names look
//     secret (password, card, cc, token, secret, ssn, iban, email…) are
//     dropped: "card=4242…" becomes "card=";
//   - in the rest of the URL, and in the title, every run of 9 or more
//     digits (single spaces, dots or dashes between them allowed) has its
//     digits replaced by "*", as recordings mask text;
//   - parameters in the site's allow-list (keep_params in /t/config) are
//     kept as they are. Until the config arrived the allow-list is empty:
//     the stricter rule applies.

// Parameter names that hold secrets: a part of the name, so that
// "user_password", "cardNumber" and "x-api-token" all match; short words
// only when they are the whole name or one of its parts.
const SECRET =
  /pass|pwd|secret|token|auth|card|cvv|cvc|ssn|iban|e-?mail|account|acct|otp|apikey|api_key|signature|session|bank|routing|(^|[^a-z])(cc|pin|key|sig|code|tel|phone)([^a-z]|$)/i;

// A run of 9 or more digits, as chunks/rec/privacy.ts masks them in text.
const DIGITS = /\d(?:[ .-]?\d){8,}/g;

let keep: Record<string, 1> = {};

/** Sets the parameters whose values are sent as they are (the site's allow-list). */
export function keepParams(names: unknown): void {
  keep = {};
  if (!Array.isArray(names)) return;
  for (let i = 0; i < names.length; i++) if (typeof names[i] === 'string') keep[names[i]] = 1;
}

/** Replaces the digits of every run of 9 or more digits with "*". */
export function maskDigits(text: string): string {
  return String(text).replace(DIGITS, function (run: string): string {
    return run.replace(/\d/g, '*');
  });
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch (e) {
    return s;
  }
}

// scrubParams scrubs a query string or fragment of name=value pairs
// (without its leading "?" or "#").
function scrubParams(q: string): string {
  const parts = q.split('&');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const eq = part.indexOf('=');
    if (eq < 0) {
      parts[i] = maskDigits(part);
      continue;
    }
    const name = part.slice(0, eq);
    const plain = decode(name);
    if (keep[plain]) continue;
    if (SECRET.test(plain)) {
      parts[i] = name + '=';
      continue;
    }
    const value = decode(part.slice(eq + 1));
    const masked = maskDigits(value);
    if (masked !== value) parts[i] = name + '=' + encodeURIComponent(masked);
  }
  return parts.join('&');
}

/** Scrubs a URL (absolute, a path, or a query string starting with "?"). */
export function scrubURL(url: string): string {
  let u = String(url || '');
  let frag: string | null = null;
  let query: string | null = null;
  const h = u.indexOf('#');
  if (h >= 0) {
    frag = u.slice(h + 1);
    u = u.slice(0, h);
  }
  const q = u.indexOf('?');
  if (q >= 0) {
    query = u.slice(q + 1);
    u = u.slice(0, q);
  }
  let out = maskDigits(u);
  if (query !== null) out += '?' + scrubParams(query);
  if (frag !== null) out += '#' + (frag.indexOf('=') >= 0 ? scrubParams(frag) : maskDigits(frag));
  return out;
}

// The page fields of context.page and of page views' properties.
const URLS = ['url', 'referrer', 'search'];

function scrubPage(p: unknown): unknown {
  if (!p || typeof p !== 'object') return p;
  const src = p as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in src) out[k] = src[k];
  for (let i = 0; i < URLS.length; i++) if (typeof out[URLS[i]] === 'string' && out[URLS[i]]) out[URLS[i]] = scrubURL(out[URLS[i]] as string);
  if (typeof out.path === 'string') out.path = maskDigits(out.path);
  if (typeof out.title === 'string') out.title = maskDigits(out.title);
  return out;
}

/**
 * Returns a message with its page scrubbed: context.page, and a page
 * view's own url, path, title, referrer and search. The message itself is
 * left as it was (the core keeps the page it describes).
 */
export function scrubMessage(m: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in m) out[k] = m[k];
  const ctx = m.context as Record<string, unknown> | undefined;
  if (ctx && typeof ctx === 'object') {
    const c: Record<string, unknown> = {};
    for (const k in ctx) c[k] = ctx[k];
    c.page = scrubPage(ctx.page);
    out.context = c;
  }
  if (m.type === 'page') out.properties = scrubPage(m.properties);
  return out;
}
