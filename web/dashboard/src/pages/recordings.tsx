// The recordings list: filtered by a saved or ad-hoc segment (or one
// user, from a profile) and by session filters, sorted by date, duration
// or frustration, a page at a time. The filters live in the address, so a
// filtered list can be shared and the profile and segment pages link to it.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, query, sitePath } from '../api';
import { Empty, LoadError, Loading } from '../components/feedback';
import { Ago, Value } from '../components/values';
import { EventNames, useTrackEvents } from '../events';
import { formatDuration, plural } from '../format';
import { useLoad, useTitle } from '../hooks';
import { Link, setQuery, useLocation } from '../router';
import { useSite } from '../session';
import type { Problem, SavedSegment, Signals } from '../types';
import type { Recording } from '../recordings/types';
import { profileHref } from './users';
import '../recordings/recordings.css';

const pageSize = 25;

/** The list's filters, as the address and the API name them. */
const filterNames = ['segment', 'text', 'user', 'kind', 'from', 'to', 'min_duration', 'max_duration', 'device', 'country', 'page', 'event', 'signal', 'sort'] as const;
type Filters = Partial<Record<(typeof filterNames)[number], string>>;

const AD_HOC = '__text';

/** The recordings page of a site, optionally with filters. */
export function recordingsHref(site: string, filters: Filters = {}): string {
  return `/s/${encodeURIComponent(site)}/recordings` + query(filters);
}

/** The player's page of a recording. */
export function playerHref(site: string, id: string): string {
  return `/s/${encodeURIComponent(site)}/recordings/${encodeURIComponent(id)}`;
}

function readFilters(q: URLSearchParams): Filters {
  const f: Filters = {};
  for (const n of filterNames) {
    const v = q.get(n);
    if (v) f[n] = v;
  }
  return f;
}

export function RecordingsPage() {
  const site = useSite();
  useTitle('Recordings — ' + site.name);
  const { query: q } = useLocation();
  const filters = readFilters(q);
  const key = JSON.stringify(filters);
  const [cursors, setCursors] = useState<string[]>(['']);
  const after = cursors[cursors.length - 1];
  useEffect(() => setCursors(['']), [key]);
  const segments = useLoad((signal) => get<{ segments: SavedSegment[] }>(sitePath(site.id, '/segments'), { signal }), [site.id]);
  const list = useLoad(
    (signal) =>
      get<{ recordings: Recording[]; next_after: string; warnings?: Problem[] }>(
        sitePath(site.id, '/recordings') + query({ ...filters, limit: pageSize, after }),
        { signal },
      ),
    [site.id, key, after],
  );
  const filtered = Object.keys(filters).some((k) => k !== 'sort');
  // A filter the server refused is shown beside its control, which takes
  // the focus: sending the same filters again would fail the same way.
  const bad = badControl(list.error, filters);

  return (
    <section class="recordings">
      <div class="page-head">
        <h1>Recordings</h1>
        <div class="head-actions">
          <Link class="btn" href={`/s/${encodeURIComponent(site.id)}/settings#recording`}>
            Recording settings
          </Link>
        </div>
      </div>
      <FilterForm filters={filters} segments={segments.data?.segments || []} key={key} error={bad ? list.error : null} control={bad} />
      {list.data?.warnings && list.data.warnings.length > 0 && (
        <ul class="warnings" role="status" id="recordings-warnings">
          {list.data.warnings.map((w, i) => (
            <li key={i}>
              {w.message}
              {w.path === 'event' &&
                (w.suggestions || []).map((s) => (
                  <button type="button" class="btn btn-small btn-ghost suggestion" key={s} onClick={() => setQuery({ event: s })}>
                    Show {s}
                  </button>
                ))}
            </li>
          ))}
        </ul>
      )}
      {list.error ? (
        bad ? (
          <p class="muted filter-fix">Correct the filter marked above, then apply it again.</p>
        ) : (
          <LoadError error={list.error} retry={list.reload} />
        )
      ) : !list.data ? (
        <Loading />
      ) : list.data.recordings.length === 0 ? (
        filtered || cursors.length > 1 ? (
          <Empty title="No recording matches">
            <p>Widen the dates or remove a filter. Recordings are kept for the site's retention period (30 days unless changed).</p>
          </Empty>
        ) : (
          <Empty title="No recordings yet">
            <p>
              Pages with the snippet are recorded as visitors use them (inputs masked, see the docs).{' '}
              <Link href={`/s/${encodeURIComponent(site.id)}/settings`}>Install the tracker</Link> and open one of your pages.
            </p>
          </Empty>
        )
      ) : (
        <>
          <div class="table-wrap">
            <table class={'recording-list' + (list.loading ? ' stale' : '')}>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Started</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Pages</th>
                  <th scope="col">Device</th>
                  <th scope="col">Signals</th>
                  <th scope="col">
                    <span class="sr-only">Play</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.recordings.map((r) => (
                  <RecordingRow r={r} key={r.id} />
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages">
            <button type="button" class="btn" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous
            </button>
            <span>Page {cursors.length}</span>
            <button type="button" class="btn" disabled={!list.data.next_after} onClick={() => setCursors([...cursors, list.data!.next_after])}>
              Next
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

function RecordingRow(props: { r: Recording }) {
  const site = useSite();
  const r = props.r;
  const anonymous = !r.user_id;
  const attrs = Object.keys(r.attributes || {}).sort();
  return (
    <tr data-recording={r.id}>
      <td>
        <Link href={profileHref(site.id, r.user, anonymous)} class="break">
          {r.user}
        </Link>
        {anonymous && <span class="badge">anonymous</span>}
        {attrs.length > 0 && (
          <ul class="attr-chips" aria-label="Attributes">
            {attrs.map((k) => (
              <li key={k}>
                <span class="muted">{k}</span> <Value value={r.attributes[k].value} type={r.attributes[k].type} />
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>
        <Ago at={r.started_at} />
      </td>
      <td>{formatDuration(r.duration_seconds)}</td>
      <td>
        {r.pages}
        {r.first_url && <div class="sub break">{pathOf(r.first_url)}</div>}
      </td>
      <td>
        {[r.device, r.browser, r.os].filter(Boolean).join(' · ') || '—'}
        {r.country && <div class="sub">{r.country}</div>}
      </td>
      <td>
        <SignalCounts s={r.signals} />
      </td>
      <td>
        <Link href={playerHref(site.id, r.id)} class="btn btn-small" aria-label={'Play the recording of ' + r.user}>
          ▶ Play
        </Link>
      </td>
    </tr>
  );
}

/** The path (and query) of a URL, or the URL when it is not one. */
export function pathOf(u: string): string {
  try {
    const x = new URL(u);
    return x.pathname + x.search;
  } catch {
    return u;
  }
}

const signalNames: [keyof Signals, string, string][] = [
  ['rage_clicks', 'rage click', 'rage clicks'],
  ['dead_clicks', 'dead click', 'dead clicks'],
  ['errors', 'error', 'errors'],
  ['u_turns', 'u-turn', 'u-turns'],
  ['clicks', 'click', 'clicks'],
];

/** A recording's signal counts; zeros are left out. */
export function SignalCounts(props: { s: Signals }) {
  const parts = signalNames
    .filter(([k]) => ((props.s[k] as number) || 0) > 0)
    .map(([k, one, many]) => (
      <span key={k} class={'signal' + (k !== 'clicks' ? ' signal-on' : '')} data-signal={k}>
        {plural(props.s[k] as number, one, many)}
      </span>
    ));
  return parts.length ? <span class="signals">{parts}</span> : <span class="muted">none</span>;
}

/** The form control of each filter the API may refuse. */
const controls: Record<string, string> = {
  segment: 'rf-segment',
  text: 'rf-text',
  from: 'rf-from',
  to: 'rf-to',
  min_duration: 'rf-min',
  max_duration: 'rf-max',
  device: 'rf-device',
  country: 'rf-country',
  page: 'rf-page',
  event: 'rf-event',
  signal: 'rf-signal',
  sort: 'rf-sort',
};

/** The id of the filter control an error is about; '' when it is about none (or may pass if tried again). */
export function badControl(e: ApiError | null, f: Filters): string {
  if (!e || e.status < 400 || e.status >= 500 || !e.field) return '';
  // A segment's problems name its definition: the typed text, else the
  // saved segment chosen.
  if (e.field === 'definition') return f.text ? 'rf-text' : f.segment ? 'rf-segment' : '';
  return controls[e.field] || '';
}

/** An error's message as shown beside its control: a segment's first problem with its column. */
function fieldMessage(e: ApiError): string {
  const p = e.details && e.details[0];
  if (!p || !p.column) return e.message;
  return (p.line && p.line > 1 ? `Line ${p.line}, column ${p.column}: ` : `Column ${p.column}: `) + p.message;
}

/** Where in text a problem at line and column (1-based) is. */
function offsetOf(text: string, line: number, column: number): number {
  let at = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) break;
    at = nl + 1;
  }
  return Math.min(at + column - 1, text.length);
}

/** A labelled filter with its error beside it. */
function FilterField(props: { id: string; label: string; error?: string; class?: string; children: ComponentChildren }) {
  return (
    <div class={'field' + (props.class ? ' ' + props.class : '') + (props.error ? ' field-invalid' : '')}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.error && (
        <p class="field-error" id={props.id + '-err'} role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

function FilterForm(props: { filters: Filters; segments: SavedSegment[]; error: ApiError | null; control: string }) {
  const f = props.filters;
  const events = useTrackEvents(useSite().id);
  const [v, setV] = useState<Filters>({ ...f, segment: f.text ? AD_HOC : f.segment });
  // Controls changed since the error: their error no longer applies.
  const [edited, setEdited] = useState<string[]>([]);
  const set = (k: keyof Filters) => (e: { currentTarget: { value: string } }) => {
    setV({ ...v, [k]: e.currentTarget.value });
    const c = k === 'segment' ? 'rf-segment' : controls[k];
    if (c && !edited.includes(c)) setEdited([...edited, c]);
  };
  const errorOf = (id: string) => (props.error && props.control === id && !edited.includes(id) ? fieldMessage(props.error) : undefined);
  const invalid = (id: string) =>
    errorOf(id) ? { 'aria-invalid': true as const, 'aria-describedby': id + '-err' } : { 'aria-invalid': undefined, 'aria-describedby': undefined };
  // The refused control takes the focus, with the caret where the problem is.
  useEffect(() => {
    if (!props.error || !props.control) return;
    const el = document.getElementById(props.control) as HTMLInputElement | HTMLSelectElement | null;
    if (!el) return;
    el.focus();
    const p = props.error.details && props.error.details[0];
    if (el instanceof HTMLInputElement && el.type === 'text' && p && p.column) {
      const at = offsetOf(el.value, p.line || 1, p.column);
      el.setSelectionRange(at, at);
    }
  }, [props.error, props.control]);
  const apply = (e: Event) => {
    e.preventDefault();
    const out: Record<string, string | undefined> = {};
    for (const n of filterNames) out[n] = (v[n] || '').trim() || undefined;
    if (out.segment === AD_HOC) out.segment = undefined;
    else out.text = undefined;
    if (out.segment || out.text) {
      out.user = undefined;
      out.kind = undefined;
    }
    setQuery(out);
  };
  const clear = () => {
    const out: Record<string, undefined> = {};
    for (const n of filterNames) out[n] = undefined;
    setQuery(out);
  };
  const segName = f.segment && props.segments.find((s) => s.id === f.segment)?.name;
  return (
    <form class="card filters" onSubmit={apply} aria-label="Filter recordings">
      {f.user && (
        <p class="filter-note">
          Recordings of {f.kind === 'anonymous' ? 'the anonymous visitor' : 'the user'} <strong class="break">{f.user}</strong>.{' '}
          <button type="button" class="link" onClick={() => setQuery({ user: undefined, kind: undefined })}>
            Show everyone's
          </button>
        </p>
      )}
      {segName && (
        <p class="filter-note">
          Recordings of the segment <strong>{segName}</strong>.
        </p>
      )}
      <div class="filter-grid">
        <FilterField id="rf-segment" label="Segment" error={errorOf('rf-segment')}>
          <select id="rf-segment" value={v.segment || ''} onChange={set('segment')} {...invalid('rf-segment')}>
            <option value="">Everyone</option>
            {props.segments.map((s) => (
              <option value={s.id} key={s.id}>
                {s.name}
              </option>
            ))}
            <option value={AD_HOC}>Ad-hoc segment…</option>
          </select>
        </FilterField>
        {v.segment === AD_HOC && (
          <FilterField id="rf-text" label="Ad-hoc segment" class="span-2" error={errorOf('rf-text')}>
            <input
              id="rf-text"
              type="text"
              class="mono"
              value={v.text || ''}
              onInput={set('text')}
              placeholder='plan = "pro" and rage_clicks(7d) > 0'
              {...invalid('rf-text')}
            />
          </FilterField>
        )}
        <FilterField id="rf-from" label="From" error={errorOf('rf-from')}>
          {/* A link may give a moment (the overview's period starts at the site's midnight): the field shows its UTC date. */}
          <input id="rf-from" type="date" value={(v.from || '').slice(0, 10)} onInput={set('from')} {...invalid('rf-from')} />
        </FilterField>
        <FilterField id="rf-to" label="To" error={errorOf('rf-to')}>
          <input id="rf-to" type="date" value={v.to || ''} onInput={set('to')} {...invalid('rf-to')} />
        </FilterField>
        <FilterField id="rf-min" label="Min. duration (s)" error={errorOf('rf-min')}>
          <input id="rf-min" type="number" min="0" value={v.min_duration || ''} onInput={set('min_duration')} {...invalid('rf-min')} />
        </FilterField>
        <FilterField id="rf-max" label="Max. duration (s)" error={errorOf('rf-max')}>
          <input id="rf-max" type="number" min="0" value={v.max_duration || ''} onInput={set('max_duration')} {...invalid('rf-max')} />
        </FilterField>
        <FilterField id="rf-device" label="Device" error={errorOf('rf-device')}>
          <select id="rf-device" value={v.device || ''} onChange={set('device')} {...invalid('rf-device')}>
            <option value="">Any</option>
            <option value="desktop">Desktop</option>
            <option value="mobile">Mobile</option>
            <option value="tablet">Tablet</option>
          </select>
        </FilterField>
        <FilterField id="rf-country" label="Country" error={errorOf('rf-country')}>
          <input id="rf-country" value={v.country || ''} onInput={set('country')} placeholder="NO" maxLength={50} {...invalid('rf-country')} />
        </FilterField>
        <FilterField id="rf-page" label="Page visited" error={errorOf('rf-page')}>
          <input id="rf-page" value={v.page || ''} onInput={set('page')} placeholder="/checkout" {...invalid('rf-page')} />
        </FilterField>
        <FilterField id="rf-event" label="Custom event" error={errorOf('rf-event')}>
          <input
            id="rf-event"
            list="rf-events"
            autoComplete="off"
            value={v.event || ''}
            onInput={set('event')}
            placeholder={events.data?.[0]?.name || 'Export'}
            {...invalid('rf-event')}
          />
          <EventNames id="rf-events" events={events.data} />
        </FilterField>
        <FilterField id="rf-signal" label="Signal" error={errorOf('rf-signal')}>
          <select id="rf-signal" value={v.signal || ''} onChange={set('signal')} {...invalid('rf-signal')}>
            <option value="">Any</option>
            <option value="rage_clicks">Rage clicks</option>
            <option value="dead_clicks">Dead clicks</option>
            <option value="errors">Errors</option>
            <option value="u_turns">U-turns</option>
          </select>
        </FilterField>
        <FilterField id="rf-sort" label="Sort by" error={errorOf('rf-sort')}>
          <select id="rf-sort" value={v.sort || 'date'} onChange={set('sort')} {...invalid('rf-sort')}>
            <option value="date">Newest first</option>
            <option value="duration">Longest first</option>
            <option value="frustration">Most frustrated first</option>
          </select>
        </FilterField>
      </div>
      <div class="actions actions-left">
        <button type="submit" class="btn btn-primary">
          Apply
        </button>
        <button type="button" class="btn" onClick={clear}>
          Clear
        </button>
      </div>
    </form>
  );
}
