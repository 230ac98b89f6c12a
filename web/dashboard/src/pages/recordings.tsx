// The recordings list: filtered by a saved or ad-hoc segment (or one
// user, from a profile) and by session filters, sorted by date, duration
// or frustration, a page at a time. The filters live in the address, so a
// filtered list can be shared and the profile and segment pages link to it.

import { useEffect, useState } from 'preact/hooks';
import { get, query, sitePath } from '../api';
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

  return (
    <section class="recordings">
      <div class="page-head">
        <h1>Recordings</h1>
      </div>
      <FilterForm filters={filters} segments={segments.data?.segments || []} key={key} />
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
        <LoadError error={list.error} retry={list.reload} />
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

function FilterForm(props: { filters: Filters; segments: SavedSegment[] }) {
  const f = props.filters;
  const events = useTrackEvents(useSite().id);
  const [v, setV] = useState<Filters>({ ...f, segment: f.text ? AD_HOC : f.segment });
  const set = (k: keyof Filters) => (e: { currentTarget: { value: string } }) => setV({ ...v, [k]: e.currentTarget.value });
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
        <div class="field">
          <label for="rf-segment">Segment</label>
          <select id="rf-segment" value={v.segment || ''} onChange={set('segment')}>
            <option value="">Everyone</option>
            {props.segments.map((s) => (
              <option value={s.id} key={s.id}>
                {s.name}
              </option>
            ))}
            <option value={AD_HOC}>Ad-hoc segment…</option>
          </select>
        </div>
        {v.segment === AD_HOC && (
          <div class="field span-2">
            <label for="rf-text">Ad-hoc segment</label>
            <input id="rf-text" class="mono" value={v.text || ''} onInput={set('text')} placeholder='plan = "pro" and rage_clicks(7d) > 0' />
          </div>
        )}
        <div class="field">
          <label for="rf-from">From</label>
          <input id="rf-from" type="date" value={v.from || ''} onInput={set('from')} />
        </div>
        <div class="field">
          <label for="rf-to">To</label>
          <input id="rf-to" type="date" value={v.to || ''} onInput={set('to')} />
        </div>
        <div class="field">
          <label for="rf-min">Min. duration (s)</label>
          <input id="rf-min" type="number" min="0" value={v.min_duration || ''} onInput={set('min_duration')} />
        </div>
        <div class="field">
          <label for="rf-max">Max. duration (s)</label>
          <input id="rf-max" type="number" min="0" value={v.max_duration || ''} onInput={set('max_duration')} />
        </div>
        <div class="field">
          <label for="rf-device">Device</label>
          <select id="rf-device" value={v.device || ''} onChange={set('device')}>
            <option value="">Any</option>
            <option value="desktop">Desktop</option>
            <option value="mobile">Mobile</option>
            <option value="tablet">Tablet</option>
          </select>
        </div>
        <div class="field">
          <label for="rf-country">Country</label>
          <input id="rf-country" value={v.country || ''} onInput={set('country')} placeholder="NO" maxLength={50} />
        </div>
        <div class="field">
          <label for="rf-page">Page visited</label>
          <input id="rf-page" value={v.page || ''} onInput={set('page')} placeholder="/checkout" />
        </div>
        <div class="field">
          <label for="rf-event">Custom event</label>
          <input id="rf-event" list="rf-events" autoComplete="off" value={v.event || ''} onInput={set('event')} placeholder={events.data?.[0]?.name || 'Export'} />
          <EventNames id="rf-events" events={events.data} />
        </div>
        <div class="field">
          <label for="rf-signal">Signal</label>
          <select id="rf-signal" value={v.signal || ''} onChange={set('signal')}>
            <option value="">Any</option>
            <option value="rage_clicks">Rage clicks</option>
            <option value="dead_clicks">Dead clicks</option>
            <option value="errors">Errors</option>
            <option value="u_turns">U-turns</option>
          </select>
        </div>
        <div class="field">
          <label for="rf-sort">Sort by</label>
          <select id="rf-sort" value={v.sort || 'date'} onChange={set('sort')}>
            <option value="date">Newest first</option>
            <option value="duration">Longest first</option>
            <option value="frustration">Most frustrated first</option>
          </select>
        </div>
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
