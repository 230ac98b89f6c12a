// How values are shown: dates, durations, counts and attribute values.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const num = new Intl.NumberFormat();

/** A date and time in the reader's locale, or "—". */
export function formatTime(s: string | null | undefined): string {
  if (!s) return '—';
  const d = new Date(s);
  return isNaN(d.getTime()) ? s : dateTime.format(d);
}

/** A date in the reader's locale. */
export function formatDate(s: string | null | undefined): string {
  if (!s) return '—';
  const d = new Date(s);
  return isNaN(d.getTime()) ? s : dateOnly.format(d);
}

/** "3 min ago", "2 days ago"; the full time belongs in a title. */
export function ago(s: string | null | undefined, now = Date.now()): string {
  if (!s) return 'never';
  const t = new Date(s).getTime();
  if (isNaN(t)) return s;
  const sec = Math.round((now - t) / 1000);
  if (sec < 0) return 'just now';
  if (sec < 60) return sec <= 1 ? 'just now' : sec + ' s ago';
  const min = Math.round(sec / 60);
  if (min < 60) return min + ' min ago';
  const h = Math.round(min / 60);
  if (h < 48) return h + ' h ago';
  const d = Math.round(h / 24);
  if (d < 60) return d + ' days ago';
  return formatDate(s);
}

/** A count with thousands separators. */
export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : num.format(n);
}

/** A duration in seconds as "1 h 5 min", "4 min 12 s", "9 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min' + (s % 60 ? ' ' + (s % 60) + ' s' : '');
  const h = Math.floor(m / 60);
  return h + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
}

/** An attribute value as text: datetimes in the reader's locale, the rest as JSON would write it. */
export function formatValue(v: unknown, type?: string): string {
  if (v === null || v === undefined) return 'not set';
  if (type === 'datetime' && typeof v === 'string') return formatTime(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return num.format(v);
  return String(v);
}

/** "1 user", "2 users". */
export function plural(n: number, one: string, many = one + 's'): string {
  return formatCount(n) + ' ' + (n === 1 ? one : many);
}
