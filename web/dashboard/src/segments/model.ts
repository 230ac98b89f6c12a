// The segment builder's model: condition kinds, the operators that fit
// each attribute type, and how a condition changes when its operator does.
// Conditions are the JSON form of docs/segments.md, edited in place.

import type { AttrType, Condition } from '../types';

export interface Kind {
  type: string;
  label: string;
  /** A new condition of this kind. */
  make: () => Condition;
}

/** Frustration signals the tracker captures; conditions count them like events. */
export const signalKinds: { type: string; label: string }[] = [
  { type: 'rage_clicks', label: 'Rage clicks' },
  { type: 'dead_clicks', label: 'Dead clicks' },
  { type: 'u_turns', label: 'U-turns' },
  { type: 'errors', label: 'JavaScript errors' },
];

export const kinds: Kind[] = [
  { type: 'attribute', label: 'Attribute', make: () => ({ type: 'attribute', key: '', op: '=', value: '' }) },
  { type: 'changed', label: 'Attribute changed', make: () => ({ type: 'changed', key: '', within: '30d' }) },
  { type: 'event', label: 'Did an event', make: () => ({ type: 'event', name: '', within: '30d' }) },
  { type: 'first_event', label: 'Did an event for the first time', make: () => ({ type: 'first_event', name: '', within: '7d' }) },
  { type: 'active_days', label: 'Active days', make: () => ({ type: 'active_days', op: '>=', value: 4, within: '7d' }) },
  { type: 'visited', label: 'Visited a page', make: () => ({ type: 'visited', match: '=', page: '/', within: '30d' }) },
  { type: 'sessions', label: 'Number of sessions', make: () => ({ type: 'sessions', op: '>=', value: 5, within: '30d' }) },
  {
    type: 'session_duration',
    label: 'Session duration',
    make: () => ({ type: 'session_duration', agg: 'any', op: '>=', value: '10m', within: '7d' }),
  },
  { type: 'session', label: 'Device, browser, country…', make: () => ({ type: 'session', field: 'device', op: '=', value: 'mobile', within: '30d' }) },
  ...signalKinds.map((s) => ({ type: s.type, label: s.label, make: () => ({ type: s.type, within: '30d' }) })),
  { type: 'nps_group', label: 'NPS group', make: () => ({ type: 'nps_group', op: '=', value: 'detractor' }) },
  { type: 'nps_score', label: 'NPS score', make: () => ({ type: 'nps_score', op: '<=', value: 6 }) },
  { type: 'answer', label: 'Answer to a survey question', make: () => ({ type: 'answer', survey: '', question: '', op: '=', value: '' }) },
  { type: 'feedback_rating', label: 'Feedback rating', make: () => ({ type: 'feedback_rating', op: '<=', value: 2, within: '30d' }) },
  { type: 'segment', label: 'In another segment', make: () => ({ type: 'segment', id: '' }) },
  { type: 'identified', label: 'Identified (has a user ID)', make: () => ({ type: 'identified' }) },
  { type: 'any', label: 'Group of conditions', make: () => ({ type: 'any', conditions: [] }) },
];

export const isGroup = (c: Condition) => c.type === 'all' || c.type === 'any';
export const isSignal = (type: string) => signalKinds.some((s) => s.type === type);

/** Operators and how they read, by attribute type. */
export const opLabels: Record<string, string> = {
  '=': 'is',
  '!=': 'is not',
  '<': 'less than',
  '<=': 'at most',
  '>': 'more than',
  '>=': 'at least',
  between: 'between',
  in: 'is one of',
  'not in': 'is none of',
  contains: 'contains',
  starts_with: 'starts with',
  ends_with: 'ends with',
  matches: 'matches (regex)',
  within: 'in the last',
  older_than: 'more than … ago',
  'is set': 'is set',
  'is not set': 'is not set',
};

export const opsByType: Record<AttrType, string[]> = {
  string: ['=', '!=', 'in', 'not in', 'contains', 'starts_with', 'ends_with', 'matches', 'is set', 'is not set'],
  number: ['=', '!=', '<', '<=', '>', '>=', 'between', 'in', 'not in', 'is set', 'is not set'],
  boolean: ['=', '!=', 'is set', 'is not set'],
  datetime: ['<', '<=', '>', '>=', '=', '!=', 'between', 'within', 'older_than', 'is set', 'is not set'],
};

/** Comparisons of a count (events, days, sessions). */
export const countOps = ['>=', '>', '=', '!=', '<', '<='];
export const countLabels: Record<string, string> = {
  '>=': 'at least',
  '>': 'more than',
  '=': 'exactly',
  '!=': 'not exactly',
  '<': 'fewer than',
  '<=': 'at most',
};

/** Operators on event properties (properties are untyped JSON). */
export const propertyOps = ['=', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'contains', 'starts_with', 'ends_with', 'matches', 'is set', 'is not set'];

export const sessionFields = [
  ['device', 'device type'],
  ['browser', 'browser'],
  ['os', 'operating system'],
  ['country', 'country'],
  ['language', 'language'],
  ['timezone', 'time zone'],
  ['channel', 'traffic channel'],
  ['referrer', 'referrer'],
  ['utm_source', 'UTM source'],
  ['utm_medium', 'UTM medium'],
  ['utm_campaign', 'UTM campaign'],
  ['entry_page', 'entry page'],
  ['exit_page', 'exit page'],
];

/** How many values an operator takes: none, one, two (between) or a list. */
export function arity(op: string): 'none' | 'one' | 'two' | 'list' {
  if (op === 'is set' || op === 'is not set') return 'none';
  if (op === 'between') return 'two';
  if (op === 'in' || op === 'not in') return 'list';
  return 'one';
}

/** c with op set, its value fields reshaped to fit the new operator. */
export function withOp(c: Condition, op: string): Condition {
  const out: Condition = { ...c, op };
  const was = arity(String(c.op || '='));
  const now = arity(op);
  const first = c.value !== undefined ? c.value : Array.isArray(c.values) ? c.values[0] : '';
  const durationOp = (o: string) => o === 'within' || o === 'older_than';
  delete out.value;
  delete out.values;
  if (now === 'one') out.value = durationOp(op) !== durationOp(String(c.op)) ? (durationOp(op) ? '30d' : '') : first ?? '';
  else if (now === 'two') out.values = was === 'two' ? c.values : [first ?? '', first ?? ''];
  else if (now === 'list') out.values = Array.isArray(c.values) ? c.values : first !== '' && first !== undefined ? [first] : [];
  return out;
}

/** Reads what a person typed as a value of the attribute type. */
export function typedValue(s: string, type: AttrType | undefined): unknown {
  if (type === 'number') {
    const n = Number(s);
    return s.trim() !== '' && isFinite(n) ? n : s;
  }
  if (type === 'boolean') return s === 'true' ? true : s === 'false' ? false : s;
  return s;
}

/** Reads a property value: a number when it looks like one, else text. */
export function propertyValue(s: string): unknown {
  const n = Number(s);
  return s.trim() !== '' && isFinite(n) && /^-?\d/.test(s.trim()) ? n : s;
}

/** The JSON path of child i of a group at path. */
export function childPath(path: string, i: number): string {
  return (path ? path + '.' : '') + 'conditions[' + i + ']';
}

/** The JSON path inside a not at path. */
export function notPath(path: string): string {
  return (path ? path + '.' : '') + 'condition';
}

const durationRe = /^\d+[smhdw]$/;
const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

/** What a value-taking condition still lacks for its operator, or ''. */
function valuesMissing(c: Condition, op: string): string {
  const a = arity(op);
  if (a === 'one' && blank(c.value)) return 'Enter a value.';
  if (a === 'two' && (!Array.isArray(c.values) || c.values.length < 2 || c.values.some(blank))) return 'Enter both ends of the range.';
  if (a === 'list' && (!Array.isArray(c.values) || c.values.length === 0)) return 'Enter at least one value.';
  return '';
}

/** What a period still lacks, or '' (no period is all time). */
function periodMissing(p: unknown): string {
  if (p === undefined) return '';
  if (typeof p === 'string') return durationRe.test(p) ? '' : 'Enter how many hours, days or weeks.';
  const r = p as { from?: string; to?: string };
  return r.from && r.to ? '' : 'Enter both dates.';
}

/**
 * Why a condition (a leaf, or a nested group) is not ready to count: the
 * first thing it lacks that a person still has to fill in, or '' when it is
 * complete. The server checks everything else (types, regexes, dates); this
 * only keeps half-written conditions out of the live preview.
 */
export function incomplete(c: Condition): string {
  if (isGroup(c)) return ((c.conditions as Condition[]) || []).length === 0 ? 'Add a condition to this group.' : '';
  if (c.type === 'not') return c.condition ? incomplete(c.condition as Condition) : 'Choose a condition.';
  const within = periodMissing(c.within);
  const count = c.op !== undefined && blank(c.value) && ['event', 'visited', 'active_days', 'sessions', ...signalKinds.map((s) => s.type)].includes(c.type) ? 'Enter a number.' : '';
  switch (c.type) {
    case 'attribute':
      if (blank(c.key)) return 'Choose an attribute.';
      return valuesMissing(c, String(c.op || '=')) || (c.op === 'within' || c.op === 'older_than' ? periodMissing(c.value) : '');
    case 'changed':
      return blank(c.key) ? 'Choose an attribute.' : within;
    case 'event':
    case 'first_event': {
      if (blank(c.name)) return 'Enter an event name.';
      for (const w of (Array.isArray(c.where) ? c.where : []) as Condition[]) {
        if (blank(w.key)) return 'Enter a property name, or remove the property filter.';
        const m = valuesMissing(w, String(w.op || '='));
        if (m) return m;
      }
      return count || within;
    }
    case 'active_days':
    case 'sessions':
      return count || (blank(c.value) ? 'Enter a number.' : '') || within;
    case 'visited':
      return blank(c.page) ? 'Enter a page path.' : count || within;
    case 'session_duration':
      return durationRe.test(String(c.value || '')) ? within : 'Enter a duration.';
    case 'session':
      return valuesMissing(c, String(c.op || '=')) || within;
    case 'nps_group':
    case 'nps_score':
    case 'feedback_rating':
      return valuesMissing(c, String(c.op || '=')) || within;
    case 'answer':
      if (blank(c.survey)) return 'Enter a survey ID.';
      if (blank(c.question)) return 'Enter a question ID.';
      return valuesMissing(c, String(c.op || '=')) || within;
    case 'segment':
      return blank(c.id) ? 'Choose a segment.' : '';
  }
  if (isSignal(c.type)) return (c.page !== undefined && blank(c.page) ? 'Enter a page path.' : '') || count || within;
  return '';
}

/** The complete part of a definition, for the live preview. */
export interface Pruned {
  /** The root with every incomplete condition left out; null when nothing is left. */
  def: Condition | null;
  /** JSON paths of the incomplete conditions left out (in the original tree). */
  skipped: string[];
  /** Turns a path of the pruned tree (the server's problems) into the original's. */
  original: (path: string) => string;
}

/**
 * Prunes a builder's root group: incomplete leaves, nots of incomplete
 * conditions and groups left with nothing go, so the preview counts what
 * is finished and never sends a condition a person is still writing.
 */
export function prune(root: Condition): Pruned {
  const skipped: string[] = [];
  const map = new Map<string, string>(); // pruned path -> original path
  const walk = (c: Condition, from: string, to: string): Condition | null => {
    if (isGroup(c)) {
      const kids = (c.conditions as Condition[]) || [];
      const kept: Condition[] = [];
      kids.forEach((k, i) => {
        const n = walk(k, childPath(from, i), childPath(to, kept.length));
        if (n) kept.push(n);
      });
      if (kept.length === 0 && from !== '') {
        skipped.push(from);
        return null;
      }
      map.set(to, from);
      return { ...c, conditions: kept };
    }
    if (c.type === 'not') {
      const inner = c.condition ? walk(c.condition as Condition, notPath(from), notPath(to)) : null;
      if (!inner) return null;
      map.set(to, from);
      return { ...c, condition: inner };
    }
    if (incomplete(c)) {
      skipped.push(from);
      return null;
    }
    map.set(to, from);
    return c;
  };
  const out = walk(root, '', '');
  const def = out && ((out.conditions as Condition[]) || []).length > 0 ? out : null;
  const original = (path: string) => {
    // The longest pruned path that is a prefix of path, at a boundary.
    let best = '';
    for (const k of map.keys()) {
      if (k.length > best.length && (path === k || path.startsWith(k + '.') || path.startsWith(k + '['))) best = k;
    }
    return (map.get(best) ?? '') + path.slice(best.length);
  };
  return { def, skipped, original };
}

const isIdentified = (c: Condition) => c.type === 'identified';

/** Whether a builder's root asks for identified users only: an identified() condition directly in an "all" root. */
export function identifiedOnly(root: Condition): boolean {
  return root.type === 'all' && ((root.conditions as Condition[]) || []).some(isIdentified);
}

/**
 * The root with the "identified users only" switch set: on adds
 * identified() to an "all" root (an "any" root goes inside a new "all"),
 * off removes it from the root.
 */
export function withIdentifiedOnly(root: Condition, on: boolean): Condition {
  const kids = (root.conditions as Condition[]) || [];
  if (!on) return root.type === 'all' ? { ...root, conditions: kids.filter((c) => !isIdentified(c)) } : root;
  if (identifiedOnly(root)) return root;
  if (root.type === 'all') return { ...root, conditions: [{ type: 'identified' }, ...kids] };
  return { type: 'all', conditions: kids.length ? [{ type: 'identified' }, root] : [{ type: 'identified' }] };
}
