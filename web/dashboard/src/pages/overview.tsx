// The site at a glance, where signing in lands: users, sessions and events
// of the last 7 or 30 days against the period before, by day; the most
// viewed pages; where visitors rage- and dead-click (with the recordings
// that show it); the live survey's NPS; the newest recordings; and the
// saved segments with their sizes and 30-day change. Each card links to
// the page that says more.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, isAbort, sitePath } from '../api';
import { Bars } from '../components/bars';
import { LineChart } from '../components/chart';
import { Empty, LoadError, Loading } from '../components/feedback';
import { Ago } from '../components/values';
import { formatCount, formatDuration, plural } from '../format';
import { useLoad, useTitle } from '../hooks';
import { Link, setQuery, useLocation } from '../router';
import { allows, siteAccess, useSession, useSite } from '../session';
import type { Recording } from '../recordings/types';
import type { NPSSummary } from '../surveys/types';
import { PinnedInsights } from '../insights/pinned';
import { playerHref, recordingsHref, SignalCounts } from './recordings';
import { profileHref } from './users';
import './overview.css';

interface Count {
  current: number;
  previous: number;
  change: number | null;
}

interface Day {
  date: string;
  users: number;
  sessions: number;
  events: number;
  partial?: boolean;
}

interface PageRow {
  path: string;
  views: number;
  users: number;
  previous_views: number;
}

interface HotSpot {
  path: string;
  rage_clicks: number;
  dead_clicks: number;
  users: number;
  recordings: { rage_clicks: number; dead_clicks: number } | null;
}

interface NPSPeriod extends NPSSummary {
  few: boolean;
  partial: boolean;
}

interface NPS {
  survey_id: string;
  survey_name: string;
  current: NPSPeriod;
  previous: NPSPeriod;
  change: number | null;
  other_live: number;
}

interface SegmentSize {
  id: string;
  name: string;
  size: number | null;
  size_before: number | null;
  change: number | null;
  /** When the sizes were counted: the overview keeps them a little while. */
  counted_at?: string;
  /** Not counted yet: the overview answers with them once they are. */
  counting?: boolean;
  error?: { code: string; message: string };
}

/** The answer of GET …/overview. */
export interface Overview {
  /** tz is the site's time zone, whose midnight starts the period and each day of the series. */
  period: { days: number; tz: string; from: string; to: string; previous_from: string; previous_to: string };
  users_counted: string;
  users: Count;
  sessions: Count;
  events: Count;
  series: Day[];
  top_pages: PageRow[];
  /** The top pages' users are estimates (within about 2%), on sites of a million events or more. */
  page_users_approximate: boolean;
  hot_spots: HotSpot[];
  nps: NPS | null;
  recordings: Recording[];
  segments: SegmentSize[];
  segments_not_counted: number;
  segment_change_days: number;
  last_event_at: string | null;
  /** Parts not computed yet: activity, pages, hot_spots, recordings. */
  pending: string[];
  /** When each part was computed: large sites' parts are kept a while. */
  as_of: Record<string, string>;
  took_ms: number;
}

type Metric = 'users' | 'sessions' | 'events';
const metricLabels: Record<Metric, string> = { users: 'Users', sessions: 'Sessions', events: 'Events' };

/** A short date format in a time zone (UTC when the browser does not know it). */
function shortDate(tz: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: tz });
  } catch {
    return new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
  }
}

/** The overview's address for a site. */
export function overviewHref(site: string): string {
  return `/s/${encodeURIComponent(site)}/overview`;
}

export function OverviewPage() {
  const site = useSite();
  const { me } = useSession();
  const canWrite = allows(siteAccess(site, me.account.role), 'write');
  useTitle('Overview — ' + site.name);
  const { query: q } = useLocation();
  const days = q.get('days') === '30' ? 30 : 7;
  const ov = useLoad((signal) => get<Overview>(sitePath(site.id, '/overview?days=' + days), { signal }), [site.id, days]);
  const data = ov.data;
  // Parts of a large site are still being computed after the first
  // answer: ask again until they are.
  const computing = !!data && (data.pending.length > 0 || data.segments.some((s) => s.counting));
  const [pollError, setPollError] = useState<ApiError | null>(null);
  useEffect(() => setPollError(null), [site.id, days]);
  useEffect(() => {
    if (!computing || ov.loading || pollError) return;
    const ctl = new AbortController();
    const t = setTimeout(() => {
      get<Overview>(sitePath(site.id, '/overview?days=' + days), { signal: ctl.signal }).then(ov.set, (e) => {
        if (!isAbort(e)) setPollError(e instanceof ApiError ? e : new ApiError(0, 'client', String(e)));
      });
    }, 500);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
  }, [site.id, days, data, computing, ov.loading, pollError]);
  const ready = !!data && !ov.loading && data.period.days === days && !computing;
  // Marks the moment every card shows the answer, for the browser test
  // and anyone measuring in the devtools.
  useEffect(() => {
    if (ready) performance.mark('sl-overview-ready');
  }, [ready, data]);
  return (
    <section class="overview" data-ready={ready ? String(days) : undefined}>
      <div class="page-head">
        <h1>Overview</h1>
        <div class="switch" role="group" aria-label="Period">
          {[7, 30].map((d) => (
            <button
              type="button"
              key={d}
              class="btn btn-small"
              aria-pressed={days === d}
              onClick={() => setQuery({ days: d === 7 ? undefined : String(d) })}
            >
              {d} days
            </button>
          ))}
        </div>
      </div>
      {ov.error ? (
        <LoadError error={ov.error} retry={ov.reload} />
      ) : !data ? (
        <Loading label="Counting…" />
      ) : (
        <div class={ov.loading ? 'stale' : ''}>
          <p class="lead" id="overview-period">
            {periodText(data)}, compared with the {data.period.days} days before.
            <AsOf data={data} />
          </p>
          {pollError && <LoadError error={pollError} retry={() => setPollError(null)} />}
          {!data.last_event_at && <NothingYet site={site.id} />}
          <Totals data={data} />
          <Activity data={data} />
          <PinnedInsights site={site.id} canWrite={canWrite} />
          <div class="overview-grid">
            <TopPages data={data} site={site.id} />
            <HotSpots data={data} site={site.id} />
            <NPSCard nps={data.nps} site={site.id} days={data.period.days} canWrite={canWrite} />
            <NewestRecordings recordings={data.recordings} pending={data.pending.includes('recordings')} site={site.id} />
          </div>
          <Segments data={data} site={site.id} canWrite={canWrite} />
        </div>
      )}
    </section>
  );
}

/** The counts are kept a while on large sites: says so when they are older than a few seconds. */
function AsOf(props: { data: Overview }) {
  const times = Object.values(props.data.as_of).sort();
  if (!times.length || Date.now() - new Date(times[0]).getTime() < 10000) return null;
  return (
    <>
      {' '}
      Counted <Ago at={times[0]} />; the pages linked from here count live.
    </>
  );
}

/** A card's placeholder while its part is computed. */
function Counting() {
  return (
    <p class="muted" data-pending>
      Counting…
    </p>
  );
}

/** "1 Dec – 7 Dec (days in Europe/Oslo, today so far)". */
function periodText(d: Overview): string {
  const tz = d.period.tz || 'UTC';
  const f = shortDate(tz);
  return `${f.format(new Date(d.period.from))} – ${f.format(new Date(d.period.to))} (days in ${tz}, today so far)`;
}

function NothingYet(props: { site: string }) {
  return (
    <Empty title="Nothing received from this site yet">
      <p>
        Paste the snippet into your pages (or send events from your servers), then come back: this page fills as they arrive.{' '}
        <Link href={`/s/${encodeURIComponent(props.site)}/settings`}>Install the tracker</Link>
      </p>
    </Empty>
  );
}

/** A change as "+13%", "−5%", "new" or "—", with a class for its direction. */
export function changeText(change: number | null, current: number): { text: string; dir: 'up' | 'down' | 'flat' } {
  if (change === null) return current > 0 ? { text: 'new', dir: 'up' } : { text: '—', dir: 'flat' };
  const pct = Math.round(change * 100);
  if (pct === 0) return { text: '±0%', dir: 'flat' };
  return pct > 0 ? { text: '+' + formatCount(pct) + '%', dir: 'up' } : { text: '−' + formatCount(-pct) + '%', dir: 'down' };
}

/** A change against an earlier count; before says when that was ("in the 7 days before"). */
function Delta(props: { change: number | null; current: number; previous: number; before: string; neutral?: boolean }) {
  const c = changeText(props.change, props.current);
  return (
    <span class={'delta delta-' + c.dir + (props.neutral ? ' delta-neutral' : '')} data-change={c.text} title={`${formatCount(props.previous)} ${props.before}`}>
      <span aria-hidden="true">{c.dir === 'up' ? '▲ ' : c.dir === 'down' ? '▼ ' : ''}</span>
      {c.text}
      <span class="sr-only">
        {' '}
        against {formatCount(props.previous)} {props.before}
      </span>
    </span>
  );
}

function Totals(props: { data: Overview }) {
  const d = props.data;
  if (d.pending.includes('activity')) return <Counting />;
  return (
    <>
      <dl class="stat-row overview-stats">
        {(['users', 'sessions', 'events'] as Metric[]).map((m) => (
          <div key={m} data-stat={m}>
            <dt>{metricLabels[m]}</dt>
            <dd>
              <span class="stat-value" data-value={d[m].current}>
                {formatCount(d[m].current)}
              </span>
              <Delta change={d[m].change} current={d[m].current} previous={d[m].previous} before={`in the ${d.period.days} days before`} />
            </dd>
          </div>
        ))}
      </dl>
      <p class="hint overview-note">
        Users are people with at least one page view or event in the period, signed in or anonymous; identities merged into one user
        count once, as in segments. Sessions are those that started in the period, events the page views, clicks and custom events of
        those sessions (an identify says who someone is, not what they did, and is not counted).
      </p>
    </>
  );
}

function Activity(props: { data: Overview }) {
  const [metric, setMetric] = useState<Metric>('users');
  const points = props.data.series.map((p) => ({ date: p.date, value: p[metric] }));
  const active = props.data.series.some((p) => p.events > 0);
  const pending = props.data.pending.includes('activity');
  return (
    <div class="card" id="overview-activity">
      <div class="card-head">
        <h2>{metricLabels[metric]} by day</h2>
        <div class="field-inline">
          <label for="overview-metric" class="sr-only">
            Chart
          </label>
          <select id="overview-metric" value={metric} onChange={(e) => setMetric(e.currentTarget.value as Metric)}>
            <option value="users">Users</option>
            <option value="sessions">Sessions</option>
            <option value="events">Events</option>
          </select>
        </div>
      </div>
      {pending ? (
        <Counting />
      ) : active ? (
        <>
          <LineChart points={points} label={metricLabels[metric] + ' by day'} height={200} />
          <p class="hint">
            Each day in {props.data.period.tz || 'UTC'}, the site’s time zone; the last is today so far. A day's users are counted for that day
            alone.
          </p>
        </>
      ) : (
        <p class="muted">No activity in these days.</p>
      )}
    </div>
  );
}

function TopPages(props: { data: Overview; site: string }) {
  const pages = props.data.top_pages;
  const from = props.data.period.from; // the site's midnight, exact
  return (
    <div class="card" id="overview-pages">
      <div class="card-head">
        <h2>Top pages</h2>
      </div>
      {props.data.pending.includes('pages') ? (
        <Counting />
      ) : pages.length === 0 ? (
        <p class="muted">
          No page views in these days. The snippet sends one for every page it is on (single-page apps included); servers send{' '}
          <code>page</code> calls.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="compact">
            <caption class="sr-only">The most viewed pages</caption>
            <thead>
              <tr>
                <th scope="col">Page</th>
                <th scope="col" class="num">
                  Views
                </th>
                <th scope="col" class="num">
                  Users
                </th>
                <th scope="col" class="num">
                  Change
                </th>
              </tr>
            </thead>
            <tbody>
              {pages.map((p) => (
                <tr key={p.path} data-page={p.path}>
                  <th scope="row" class="break">
                    {p.path ? (
                      <Link href={recordingsHref(props.site, { page: p.path, from })} aria-label={'Recordings of ' + p.path}>
                        {p.path}
                      </Link>
                    ) : (
                      <span class="muted">(no path)</span>
                    )}
                  </th>
                  <td class="num" data-views={p.views}>
                    {formatCount(p.views)}
                  </td>
                  <td class="num">{formatCount(p.users)}</td>
                  <td class="num">
                    <Delta
                      change={p.previous_views > 0 ? (p.views - p.previous_views) / p.previous_views : null}
                      current={p.views}
                      previous={p.previous_views}
                      before={`in the ${props.data.period.days} days before`}
                      neutral
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.data.page_users_approximate && pages.length > 0 && (
        <p class="hint">Users are estimated (within about 2%) on a site this large; views are exact.</p>
      )}
    </div>
  );
}

function HotSpots(props: { data: Overview; site: string }) {
  const spots = props.data.hot_spots;
  const from = props.data.period.from; // the site's midnight, exact
  const link = (path: string, signal: string, n: number, what: string) =>
    n > 0 ? (
      <Link href={recordingsHref(props.site, { page: path, signal, from, sort: 'frustration' })}>
        {plural(n, 'recording')} with {what}
      </Link>
    ) : (
      <span class="muted">no recording with {what}</span>
    );
  return (
    <div class="card" id="overview-hotspots">
      <div class="card-head">
        <h2>Frustration hot spots</h2>
      </div>
      {props.data.pending.includes('hot_spots') ? (
        <Counting />
      ) : spots.length === 0 ? (
        <p class="muted">
          No rage or dead clicks in these days. The snippet reports them on its own: rage clicks (several quick clicks on one spot) and dead
          clicks (nothing happens after a click).
        </p>
      ) : (
        <ol class="hotspots">
          {spots.map((s) => (
            <li key={s.path} data-hotspot={s.path}>
              <div class="hotspot-path break">{s.path || <span class="muted">(no path)</span>}</div>
              <div class="hotspot-counts">
                <span class="signal signal-on" data-rage={s.rage_clicks}>
                  {plural(s.rage_clicks, 'rage click')}
                </span>
                <span class="signal signal-on" data-dead={s.dead_clicks}>
                  {plural(s.dead_clicks, 'dead click')}
                </span>
                <span class="sub">by {plural(s.users, 'user')}</span>
              </div>
              {s.recordings && s.path && (
                <div class="hotspot-links sub">
                  {link(s.path, 'rage_clicks', s.recordings.rage_clicks, 'rage clicks')} ·{' '}
                  {link(s.path, 'dead_clicks', s.recordings.dead_clicks, 'dead clicks')}
                </div>
              )}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function NPSCard(props: { nps: NPS | null; site: string; days: number; canWrite: boolean }) {
  const base = `/s/${encodeURIComponent(props.site)}/surveys`;
  const n = props.nps;
  if (!n) {
    return (
      <div class="card" id="overview-nps">
        <div class="card-head">
          <h2>Net Promoter Score</h2>
        </div>
        <p class="muted">
          No live survey asks for an NPS.{' '}
          {props.canWrite ? (
            <>
              <Link href={base + '/new'}>Create a survey</Link> with an NPS question and launch it: its score shows here.
            </>
          ) : (
            'Once someone launches a survey with an NPS question, its score shows here.'
          )}
        </p>
      </div>
    );
  }
  const c = n.current;
  return (
    <div class="card" id="overview-nps">
      <div class="card-head">
        <h2>Net Promoter Score</h2>
        <Link href={`${base}/${encodeURIComponent(n.survey_id)}/results`} class="btn btn-small">
          Results
        </Link>
      </div>
      <p class="sub">{n.survey_name || n.survey_id}</p>
      {c.responses === 0 ? (
        <p class="muted">No answers in these days yet.</p>
      ) : (
        <>
          <p class="nps-line">
            <span class="nps-big" data-nps-score>
              {c.score}
            </span>{' '}
            {n.change !== null && (
              <span class={'delta delta-' + (n.change > 0 ? 'up' : n.change < 0 ? 'down' : 'flat')} data-nps-change={n.change}>
                {n.change > 0 ? '▲ +' : n.change < 0 ? '▼ −' : '±'}
                {Math.abs(n.change)} points
              </span>
            )}
          </p>
          <p class="hint">
            <span data-nps-responses={c.responses}>{plural(c.responses, 'answer')}</span> in these days
            {n.previous.responses > 0
              ? `; ${n.previous.score} from ${plural(n.previous.responses, 'answer')} in the ${props.days} days before`
              : '; none in the days before'}
            .
          </p>
          {c.few && <p class="warn note">Fewer than 10 answers: the score says little yet.</p>}
          <Bars
            caption="NPS groups"
            compact
            bars={[
              { label: 'Promoters', value: c.promoters, tone: 'promoter' },
              { label: 'Passives', value: c.passives, tone: 'passive' },
              { label: 'Detractors', value: c.detractors, tone: 'detractor' },
            ]}
          />
        </>
      )}
      {n.other_live > 0 && <p class="hint">{plural(n.other_live, 'other live survey')} with an NPS question: see Surveys.</p>}
    </div>
  );
}

function NewestRecordings(props: { recordings: Recording[]; pending: boolean; site: string }) {
  return (
    <div class="card" id="overview-recordings">
      <div class="card-head">
        <h2>Newest recordings</h2>
        <Link href={recordingsHref(props.site)} class="btn btn-small">
          All recordings
        </Link>
      </div>
      {props.pending ? (
        <Counting />
      ) : props.recordings.length === 0 ? (
        <p class="muted">
          No recordings yet. Pages with the snippet are recorded as visitors use them (inputs masked);{' '}
          <Link href={`/s/${encodeURIComponent(props.site)}/settings`}>check the installation and recording settings</Link>.
        </p>
      ) : (
        <ul class="overview-recordings">
          {props.recordings.map((r) => {
            const anonymous = !r.user_id;
            const name = r.attributes?.name?.value || r.attributes?.email?.value;
            return (
              <li key={r.id} data-recording={r.id}>
                <Link href={playerHref(props.site, r.id)} class="btn btn-small" aria-label={'Play the recording of ' + r.user}>
                  ▶
                </Link>
                <div class="rec-main">
                  <Link href={profileHref(props.site, r.user, anonymous)} class="break">
                    {typeof name === 'string' && name ? name : r.user}
                  </Link>
                  {anonymous && <span class="badge">anonymous</span>}
                  <div class="sub">
                    <Ago at={r.started_at} /> · {formatDuration(r.duration_seconds)} · {plural(r.pages, 'page')}
                  </div>
                </div>
                <SignalCounts s={r.signals} />
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

function Segments(props: { data: Overview; site: string; canWrite: boolean }) {
  const d = props.data;
  const base = `/s/${encodeURIComponent(props.site)}/segments`;
  const counted = d.segments.map((s) => s.counted_at).filter((t): t is string => !!t).sort();
  const oldest = counted.length ? counted[0] : null;
  return (
    <div class="card" id="overview-segments">
      <div class="card-head">
        <h2>Segments</h2>
        <Link href={base} class="btn btn-small">
          All segments
        </Link>
      </div>
      {d.segments.length === 0 ? (
        <p class="muted">
          No saved segments yet. A segment is a group of users by who they are and what they do, like{' '}
          <code>plan = "pro" and active_days(7d) &gt;= 4</code>
          {props.canWrite ? (
            <>
              : <Link href={base + '/new'}>build one</Link>, and its size shows here.
            </>
          ) : (
            '. Saved segments show here with their sizes.'
          )}
        </p>
      ) : (
        <>
          <div class="table-wrap">
            <table class="compact">
              <caption class="sr-only">Saved segments with their sizes</caption>
              <thead>
                <tr>
                  <th scope="col">Segment</th>
                  <th scope="col" class="num">
                    Users now
                  </th>
                  <th scope="col" class="num">
                    {d.segment_change_days} days ago
                  </th>
                  <th scope="col" class="num">
                    Change
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.segments.map((s) => (
                  <tr key={s.id} data-segment={s.id}>
                    <th scope="row" class="break">
                      <Link href={base + '/' + encodeURIComponent(s.id)}>{s.name}</Link>
                      {s.error && <div class="sub warn">{s.error.message}</div>}
                    </th>
                    {s.counting ? (
                      <td class="num muted" colSpan={3} data-counting>
                        counting…
                      </td>
                    ) : (
                      <>
                        <td class="num" data-size={s.size ?? ''}>
                          {formatCount(s.size)}
                        </td>
                        <td class="num">{formatCount(s.size_before)}</td>
                        <td class="num">
                          {s.size !== null && s.size_before !== null ? (
                            <Delta change={s.change} current={s.size} previous={s.size_before} before={`${d.segment_change_days} days ago`} neutral />
                          ) : (
                            '—'
                          )}
                        </td>
                      </>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p class="hint">
            Sizes now count every event received until they were counted
            {oldest ? (
              <>
                {' '}
                (<Ago at={oldest} />)
              </>
            ) : null}
            ; those {d.segment_change_days} days ago are as the segment would have counted at the end of that day. A segment's own page
            counts live.
            {d.segments_not_counted > 0 && ` ${plural(d.segments_not_counted, 'segment')} more are counted on the Segments page.`}
          </p>
        </>
      )}
    </div>
  );
}
