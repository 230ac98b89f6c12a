// Heatmaps: where visitors click (and rage- or dead-click) on a page
// group, and how far they scroll, drawn over the page as a recording
// captured it; filtered by device, dates and a segment, or two segments
// side by side with the elements whose click share differs most marked.
// The choices live in the address, so a heatmap can be shared.

import { useState } from 'preact/hooks';
import { ApiError, get, put, query, sitePath } from '../api';
import { Empty, LoadError, Loading } from '../components/feedback';
import { formatCount, formatTime } from '../format';
import { useLoad, useTitle } from '../hooks';
import { Link, setQuery, useLocation } from '../router';
import { allows, siteAccess, useSession, useSite } from '../session';
import type { RecordingSettings } from '../recordings/settings';
import type { SavedSegment } from '../types';
import { Overlay } from '../heatmaps/overlay';
import type { ClickMap, Comparison, ElementClick, Kind, PageSeen, ScrollMap, SnapshotRef } from '../heatmaps/types';
import { DEVICE_WIDTH } from '../heatmaps/types';
import { playerHref } from './recordings';
import '../heatmaps/heatmaps.css';

const names = ['page', 'match', 'kind', 'device', 'from', 'to', 'segment', 'text', 'compare', 'b', 'b_text'] as const;
type Choices = Partial<Record<(typeof names)[number], string>>;

/** The heatmaps page of a site, optionally with choices. */
export function heatmapsHref(site: string, c: Choices = {}): string {
  return `/s/${encodeURIComponent(site)}/heatmaps` + query(c);
}

function read(q: URLSearchParams): Choices {
  const c: Choices = {};
  for (const n of names) {
    const v = q.get(n);
    if (v) c[n] = v;
  }
  return c;
}

const pct = (f: number) => (Math.round(f * 1000) / 10).toString() + ' %';

export function HeatmapsPage() {
  const site = useSite();
  useTitle('Heatmaps — ' + site.name);
  const { query: q } = useLocation();
  const c = read(q);
  const device = c.device || 'desktop';
  const kind = (c.kind || 'click') as Kind;
  const pages = useLoad((signal) => get<{ pages: PageSeen[] }>(sitePath(site.id, '/heatmaps/pages') + query({ from: c.from, to: c.to }), { signal }), [
    site.id,
    c.from,
    c.to,
  ]);
  const segments = useLoad((signal) => get<{ segments: SavedSegment[] }>(sitePath(site.id, '/segments'), { signal }), [site.id]);
  const page = c.page || (pages.data && pages.data.pages.length > 0 ? pages.data.pages[0].path : '');
  // "any": every width, with the events sent without a viewport (server-side calls).
  const base = { page, match: c.match || 'path', device: device === 'any' ? undefined : device, from: c.from, to: c.to };
  const key = JSON.stringify([base, kind, c.segment, c.text, c.compare, c.b, c.b_text]);
  const comparing = !!c.compare && (!!c.segment || !!c.text);

  const map = useLoad(
    (signal) =>
      page && !comparing
        ? get<ClickMap | ScrollMap>(sitePath(site.id, '/heatmaps') + query({ ...base, kind, segment: c.segment, text: c.text }), { signal })
        : Promise.resolve(undefined),
    [site.id, key],
  );
  const cmp = useLoad(
    (signal) =>
      page && comparing
        ? get<Comparison>(
            sitePath(site.id, '/heatmaps/compare') + query({ ...base, a: c.segment, a_text: c.text, b: c.b, b_text: c.b_text }),
            { signal },
          )
        : Promise.resolve(undefined),
    [site.id, key],
  );
  const snap = useLoad(
    (signal) =>
      page ? get<{ snapshot: SnapshotRef | null }>(sitePath(site.id, '/heatmaps/snapshot') + query(base), { signal }) : Promise.resolve(undefined),
    [site.id, JSON.stringify(base)],
  );
  const snapshot = snap.data ? snap.data.snapshot : null;
  const width = snapshot ? snapshot.width : DEVICE_WIDTH[device] || 1280;
  const [missing, setMissing] = useState<string[]>([]);
  const segName = (id?: string, text?: string) =>
    text ? text : id ? (segments.data?.segments.find((s) => s.id === id)?.name ?? id) : 'Everyone';

  return (
    <section class="heatmaps">
      <div class="page-head">
        <h1>Heatmaps</h1>
      </div>
      <Controls c={c} page={page} pages={pages.data?.pages || []} segments={segments.data?.segments || []} />
      {pages.error && <LoadError error={pages.error} retry={pages.reload} />}
      {pages.data && pages.data.pages.length === 0 && !c.page ? (
        <Empty title="No pages seen in this period">
          <p>Heatmaps are drawn from the clicks and scrolls the tracker sends. Install it, or widen the dates.</p>
        </Empty>
      ) : (
        <>
          <p class="muted snapshot-note" id="snapshot-note">
            {snap.loading && !snap.data
              ? 'Looking for a snapshot of the page…'
              : snapshot
                ? `Background: the page as ${snapshot.captured ? 'the tracker captured it' : 'recorded'} ${formatTime(snapshot.taken_at)} at ${snapshot.width} px (${snapshot.href}).`
                : 'No recording shows this page at this width yet: the clicks are drawn as a density grid on a blank page.'}
          </p>
          {!snap.loading && snap.data && !snapshot && page && <CaptureBackground page={page} match={c.match || 'path'} />}
          {comparing ? (
            cmp.error ? (
              <LoadError error={cmp.error} retry={cmp.reload} />
            ) : !cmp.data ? (
              <Loading label="Comparing…" />
            ) : (
              <CompareView
                cmp={cmp.data}
                snapshot={snapshot}
                width={width}
                nameA={segName(c.segment, c.text)}
                nameB={c.b || c.b_text ? segName(c.b, c.b_text) : 'Everyone else'}
              />
            )
          ) : map.error ? (
            <LoadError error={map.error} retry={map.reload} />
          ) : !map.data ? (
            page ? <Loading label="Counting clicks…" /> : null
          ) : map.data.kind === 'scroll' ? (
            <ScrollView scroll={map.data as ScrollMap} snapshot={snapshot} width={width} />
          ) : (
            <div class="heat-single">
              <Summary map={map.data as ClickMap} />
              <Overlay
                snapshotURL={snapshot ? snapshot.html : null}
                width={width}
                map={map.data as ClickMap}
                scroll={null}
                marked={new Set()}
                label={page}
                onMissing={setMissing}
              />
              {missing.length > 0 && (
                <p class="muted" id="missing-elements">
                  Not on this snapshot (counted, not drawn): {missing.map((m) => <code key={m}>{m} </code>)}
                </p>
              )}
              <ElementTable map={map.data as ClickMap} kind={kind} base={{ ...base, segment: c.segment, text: c.text }} />
            </div>
          )}
        </>
      )}
    </section>
  );
}

/** The choices: page group, kind, device, dates, segment and comparison. */
function Controls(props: { c: Choices; page: string; pages: PageSeen[]; segments: SavedSegment[] }) {
  const c = props.c;
  const [text, setText] = useState(c.text || '');
  const [pageText, setPageText] = useState(c.page || '');
  const [bText, setBText] = useState(c.b_text || '');
  return (
    <form
      class="heat-controls card"
      onSubmit={(e) => {
        e.preventDefault();
        setQuery({ text: text || undefined, page: pageText || props.page || undefined, b_text: bText || undefined });
      }}
    >
      <div class="field-inline">
        <label for="heat-page">Page</label>
        <select id="heat-page" value={props.page} onChange={(e) => { setPageText(''); setQuery({ page: (e.target as HTMLSelectElement).value, match: 'path' }); }}>
          {props.pages.map((p) => (
            <option key={p.path} value={p.path}>
              {p.path} — {formatCount(p.page_views)} views
            </option>
          ))}
          {c.page && !props.pages.some((p) => p.path === c.page) && <option value={c.page}>{c.page}</option>}
        </select>
      </div>
      <div class="field-inline">
        <label for="heat-match">Match</label>
        <select id="heat-match" value={c.match || 'path'} onChange={(e) => setQuery({ match: (e.target as HTMLSelectElement).value })}>
          <option value="path">this path (any query)</option>
          <option value="exact">this exact URL</option>
          <option value="pattern">a pattern (/products/*)</option>
          <option value="regex">a regular expression</option>
        </select>
      </div>
      <div class="field-inline">
        <label for="heat-page-text">Page, pattern or regex</label>
        <input id="heat-page-text" value={pageText} placeholder={props.page} onInput={(e) => setPageText((e.target as HTMLInputElement).value)} />
      </div>
      <div class="field-inline">
        <label for="heat-kind">Map</label>
        <select id="heat-kind" value={c.kind || 'click'} onChange={(e) => setQuery({ kind: (e.target as HTMLSelectElement).value })}>
          <option value="click">Clicks</option>
          <option value="rage">Rage clicks</option>
          <option value="dead">Dead clicks</option>
          <option value="scroll">Scroll depth</option>
        </select>
      </div>
      <div class="field-inline">
        <label for="heat-device">Device</label>
        <select id="heat-device" value={c.device || 'desktop'} onChange={(e) => setQuery({ device: (e.target as HTMLSelectElement).value })}>
          <option value="desktop">Desktop</option>
          <option value="tablet">Tablet</option>
          <option value="mobile">Mobile</option>
          <option value="any">Any device</option>
        </select>
      </div>
      <div class="field-inline">
        <label for="heat-from">From</label>
        <input id="heat-from" type="date" value={c.from || ''} onChange={(e) => setQuery({ from: (e.target as HTMLInputElement).value || undefined })} />
      </div>
      <div class="field-inline">
        <label for="heat-to">To</label>
        <input id="heat-to" type="date" value={c.to || ''} onChange={(e) => setQuery({ to: (e.target as HTMLInputElement).value || undefined })} />
      </div>
      <div class="field-inline">
        <label for="heat-segment">Segment</label>
        <select id="heat-segment" value={c.segment || ''} onChange={(e) => setQuery({ segment: (e.target as HTMLSelectElement).value || undefined, text: undefined })}>
          <option value="">Everyone</option>
          {props.segments.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </div>
      <div class="field-inline grow">
        <label for="heat-text">or written</label>
        <input id="heat-text" class="mono" value={text} placeholder='lifetime_value >= 500' onInput={(e) => setText((e.target as HTMLInputElement).value)} />
      </div>
      <div class="field-inline">
        <label>
          <input
            type="checkbox"
            id="heat-compare"
            checked={!!c.compare}
            onChange={(e) => setQuery({ compare: (e.target as HTMLInputElement).checked ? '1' : undefined })}
          />{' '}
          Compare with
        </label>
        <select id="heat-b" value={c.b || ''} disabled={!c.compare} onChange={(e) => setQuery({ b: (e.target as HTMLSelectElement).value || undefined, b_text: undefined })}>
          <option value="">Everyone else</option>
          {props.segments.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </div>
      {c.compare && (
        <div class="field-inline grow">
          <label for="heat-b-text">or B written</label>
          <input id="heat-b-text" class="mono" value={bText} onInput={(e) => setBText((e.target as HTMLInputElement).value)} />
        </div>
      )}
      <button type="submit" class="btn btn-primary">
        Apply
      </button>
    </form>
  );
}

function Summary(props: { map: ClickMap }) {
  const m = props.map;
  const what = m.kind === 'rage' ? 'rage clicks' : m.kind === 'dead' ? 'dead clicks' : 'clicks';
  return (
    <p class="heat-summary" id="heat-summary">
      <strong>{formatCount(m.total)}</strong> {what} by <strong>{formatCount(m.users)}</strong> users in{' '}
      <strong>{formatCount(m.page_views)}</strong> page views
    </p>
  );
}

/** The element table: the most clicked elements, each opening the recordings of who clicked it. */
function ElementTable(props: { map: ClickMap; kind: Kind; base: Record<string, string | undefined> }) {
  const site = useSite();
  const [open, setOpen] = useState<string | null>(null);
  const clicks = useLoad(
    (signal) =>
      open
        ? get<{ clicks: ElementClick[] }>(sitePath(site.id, '/heatmaps/clicks') + query({ ...props.base, kind: props.kind, selector: open }), { signal })
        : Promise.resolve(undefined),
    [open, JSON.stringify(props.base), props.kind],
  );
  if (props.map.elements.length === 0) return <Empty title="No clicks on this page group">{null}</Empty>;
  return (
    <div class="table-wrap">
      <table class="element-table" id="element-table">
        <thead>
          <tr>
            <th scope="col">Element</th>
            <th scope="col">Clicks</th>
            <th scope="col">Users</th>
            <th scope="col">Share of page views</th>
            <th scope="col">Rage</th>
            <th scope="col">Dead</th>
            <th scope="col">
              <span class="sr-only">Recordings</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.map.elements.slice(0, 50).map((e) => (
            <>
              <tr key={e.selector} data-selector={e.selector}>
                <td class="mono break">{e.selector}</td>
                <td class="num" data-col="clicks">{formatCount(e.clicks)}</td>
                <td class="num" data-col="users">{formatCount(e.users)}</td>
                <td class="num">{pct(e.view_share)}</td>
                <td class="num">{pct(e.rage_share)}</td>
                <td class="num">{pct(e.dead_share)}</td>
                <td>
                  <button type="button" class="btn btn-small" onClick={() => setOpen(open === e.selector ? null : e.selector)} aria-expanded={open === e.selector}>
                    Recordings
                  </button>
                </td>
              </tr>
              {open === e.selector && (
                <tr class="clicks-row">
                  <td colSpan={7}>
                    {clicks.error ? (
                      <LoadError error={clicks.error} />
                    ) : !clicks.data ? (
                      <Loading />
                    ) : (
                      <ul class="element-clicks">
                        {clicks.data.clicks.map((k, i) => (
                          <li key={i}>
                            {formatTime(k.at)} {k.user_id && <span class="muted">{k.user_id}</span>}{' '}
                            {k.recording ? (
                              <Link href={playerHref(site.id, k.recording) + query({ t: k.offset_ms })}>▶ at the click</Link>
                            ) : (
                              <span class="muted">not recorded</span>
                            )}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              )}
            </>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Offers, for a page group without a background, to have the tracker
 * capture one from its visitors (the recording settings' backgrounds),
 * or says that it will.
 */
function CaptureBackground(props: { page: string; match: string }) {
  const site = useSite();
  const { me } = useSession();
  const st = useLoad((signal) => get<RecordingSettings>(sitePath(site.id, '/recording-settings'), { signal }), [site.id]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  if (!st.data) return null;
  const groups = st.data.backgrounds || [];
  const listed = groups.some((g) => g.page === props.page && g.match === props.match);
  if (!st.data.enabled)
    return <p class="muted" id="background-capture">Recording is off for this site, so no background is captured: turn it on (at any sample rate) in the settings.</p>;
  if (listed)
    return (
      <p class="muted" id="background-capture">
        The tracker captures this page's background from the next visitor at this width whose session is not recorded (at most once a week per width).
      </p>
    );
  const capture = async () => {
    setBusy(true);
    setError('');
    try {
      st.set(await put<RecordingSettings>(sitePath(site.id, '/recording-settings'), { backgrounds: [...groups, { page: props.page, match: props.match }] }));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <p class="muted" id="background-capture">
      {allows(siteAccess(site, me.account.role), 'admin') ? (
        <button type="button" class="secondary" id="capture-background" disabled={busy} onClick={capture}>
          Capture it from visitors
        </button>
      ) : (
        'An admin can have the tracker capture it from visitors.'
      )}{' '}
      {error && <span class="error">{error}</span>}
    </p>
  );
}

function ScrollView(props: { scroll: ScrollMap; snapshot: SnapshotRef | null; width: number }) {
  const s = props.scroll;
  return (
    <div class="heat-single">
      <p class="heat-summary" id="heat-summary">
        <strong>{formatCount(s.page_views)}</strong> page views; on average they reached <strong>{s.average_depth} %</strong> of the page, and
        the first screen showed <strong>{s.average_fold} %</strong>.
      </p>
      <ol class="scroll-table">
        {s.reached.map((r, i) =>
          i % 2 === 0 ? (
            <li key={i} data-depth={i * s.step}>
              <span class="mono">{i * s.step} %</span> <span class="bar" style={{ width: r * 200 + 'px' }} /> {pct(r)}
            </li>
          ) : null,
        )}
      </ol>
      <Overlay snapshotURL={props.snapshot ? props.snapshot.html : null} width={props.width} map={null} scroll={s} marked={new Set()} label="scroll" />
    </div>
  );
}

function CompareView(props: { cmp: Comparison; snapshot: SnapshotRef | null; width: number; nameA: string; nameB: string }) {
  const c = props.cmp;
  const marked = new Set(c.elements.filter((e) => e.marked).map((e) => e.selector));
  const url = props.snapshot ? props.snapshot.html : null;
  return (
    <div class="heat-compare">
      <div class="compare-panes">
        <div class="pane" id="pane-a">
          <h2>
            A: {props.nameA} <span class="muted">({formatCount(c.total_a)} clicks)</span>
          </h2>
          <Overlay snapshotURL={url} width={props.width} map={c.a} scroll={null} marked={marked} label="A" />
        </div>
        <div class="pane" id="pane-b">
          <h2>
            B: {props.nameB} <span class="muted">({formatCount(c.total_b)} clicks)</span>
          </h2>
          <Overlay snapshotURL={url} width={props.width} map={c.b} scroll={null} marked={marked} label="B" />
        </div>
      </div>
      <div class="table-wrap">
        <table class="difference-table" id="difference-table">
          <thead>
            <tr>
              <th scope="col">Element</th>
              <th scope="col">Clicks A</th>
              <th scope="col">Share A</th>
              <th scope="col">Clicks B</th>
              <th scope="col">Share B</th>
              <th scope="col">Difference</th>
            </tr>
          </thead>
          <tbody>
            {c.elements.slice(0, 30).map((e) => (
              <tr key={e.selector} data-selector={e.selector} class={e.marked ? 'marked' : ''}>
                <td class="mono break">
                  {e.marked && <span class="badge badge-warn">differs</span>} {e.selector}
                </td>
                <td class="num">{formatCount(e.clicks_a)}</td>
                <td class="num">{pct(e.share_a)}</td>
                <td class="num">{formatCount(e.clicks_b)}</td>
                <td class="num">{pct(e.share_b)}</td>
                <td class={'num ' + (e.difference > 0 ? 'up' : e.difference < 0 ? 'down' : '')}>
                  {e.difference > 0 ? '+' : ''}
                  {(Math.round(e.difference * 1000) / 10).toString()} pts
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
