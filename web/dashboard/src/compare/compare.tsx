// The Compare page: two saved segments, or one and everyone else, side by
// side, and every event, page, attribute and session property they differ
// on, tested and ranked (POST /compare). The choice lives in the address
// (?a=SEGMENT&b=SEGMENT|rest|all&days=N) so a comparison can be linked.

import { useMemo, useState } from 'preact/hooks';
import { ApiError, get, post, sitePath } from '../api';
import { Empty, LoadError, Loading } from '../components/feedback';
import { formatCount } from '../format';
import { useLoad, useTitle } from '../hooks';
import { recordingsHref } from '../pages/recordings';
import { Link, navigate, setQuery, useLocation } from '../router';
import { allows, siteAccess, useSession, useSite } from '../session';
import type { SavedSegment } from '../types';
import { num, pct, pval, signedPct } from './format';
import type { CompareRow, Comparison } from './types';
import './compare.css';

const kinds: Record<string, string> = {
  '': 'Everything',
  attribute: 'Attributes',
  company: 'Company attributes',
  event: 'Events',
  page: 'Pages',
  session: 'Session properties',
  answer: 'Survey answers',
};

/** The Compare page of a site, optionally with its choice made. */
export function compareHref(site: string, a?: string, b?: string): string {
  const q = new URLSearchParams();
  if (a) q.set('a', a);
  if (b) q.set('b', b);
  const s = q.toString();
  return `/s/${encodeURIComponent(site)}/compare` + (s ? '?' + s : '');
}

function body(a: string, b: string, days: string, overlap: string, funnel: string) {
  const other = b === 'rest' || b === 'all' || !b ? null : { segment: b };
  return {
    a: { segment: a },
    b: other,
    rest: b === 'all' ? 'all' : 'identified',
    days: Number(days) || 90,
    overlap: overlap || undefined,
    funnel: funnel || undefined,
  };
}

function csvQuery(a: string, b: string, days: string, overlap: string, funnel: string): string {
  const q = new URLSearchParams({ a, days, format: 'csv' });
  if (overlap) q.set('overlap', overlap);
  if (funnel) q.set('funnel', funnel);
  if (b === 'all') q.set('rest', 'all');
  else if (b !== 'rest') q.set('b', b);
  return '?' + q.toString();
}

export function ComparePage() {
  const site = useSite();
  const { me } = useSession();
  useTitle('Compare — ' + site.name);
  const canWrite = allows(siteAccess(site, me.account.role), 'write');
  const { query: q } = useLocation();
  const a = q.get('a') || '';
  const b = q.get('b') || 'rest';
  const days = q.get('days') || '90';
  const overlap = q.get('overlap') === 'keep' ? 'keep' : '';
  const funnel = q.get('funnel') || '';
  const funnels = useLoad((signal) => get<{ insights: { id: string; name: string; kind: string }[] }>(sitePath(site.id, '/insights'), { signal }), [site.id]);
  const segments = useLoad((signal) => get<{ segments: SavedSegment[] }>(sitePath(site.id, '/segments'), { signal }), [site.id]);
  const result = useLoad(
    (signal) => (a ? post<Comparison>(sitePath(site.id, '/compare'), body(a, b, days, overlap, funnel), { signal }) : Promise.resolve(undefined)),
    [site.id, a, b, days, overlap, funnel],
  );
  const [kind, setKind] = useState('');
  const [onlySignificant, setOnlySignificant] = useState(false);

  const list = segments.data?.segments || [];
  return (
    <section class="compare">
      <div class="page-head">
        <h1>Compare</h1>
        {result.data && (
          <a class="btn" download="comparison.csv" href={sitePath(site.id, '/compare') + csvQuery(a, b, days, overlap, funnel)}>
            Export CSV
          </a>
        )}
      </div>
      <p class="lead">
        Two groups side by side, and everything they differ on — every event, page, attribute and session property — ranked by how
        strongly it separates them. A difference is <strong>significant</strong> when its p-value, adjusted for the number of things
        tested (Benjamini–Hochberg), is below 0.05 and both groups have at least 30 users.
      </p>
      {segments.error ? (
        <LoadError error={segments.error} retry={segments.reload} />
      ) : !segments.data ? (
        <Loading />
      ) : list.length === 0 ? (
        <Empty title="Save a segment to compare">
          <p>
            Comparisons start from saved segments. <Link href={`/s/${encodeURIComponent(site.id)}/segments/new`}>Build one</Link>.
          </p>
        </Empty>
      ) : (
        <div class="filters-inline compare-choice">
          <div class="field field-inline">
            <label for="cmp-a">Segment</label>
            <select id="cmp-a" value={a} onChange={(e) => setQuery({ a: e.currentTarget.value })}>
              <option value="">Choose a segment…</option>
              {list.map((s) => (
                <option value={s.id}>{s.name}</option>
              ))}
            </select>
          </div>
          <div class="field field-inline">
            <label for="cmp-b">Compared with</label>
            <select id="cmp-b" value={b} onChange={(e) => setQuery({ b: e.currentTarget.value })}>
              <option value="rest">Everyone else (identified users)</option>
              <option value="all">Everyone else (all users)</option>
              {list.map((s) => (
                <option value={s.id}>{s.name}</option>
              ))}
            </select>
          </div>
          <div class="field field-inline">
            <label for="cmp-days">Activity of the last</label>
            <select id="cmp-days" value={days} onChange={(e) => setQuery({ days: e.currentTarget.value })}>
              <option value="7">7 days</option>
              <option value="30">30 days</option>
              <option value="90">90 days</option>
              <option value="365">365 days</option>
            </select>
          </div>
          {(funnels.data?.insights || []).some((i) => i.kind === 'funnel') && (
            <div class="field field-inline">
              <label for="cmp-funnel">Funnel conversion</label>
              <select id="cmp-funnel" value={funnel} onChange={(e) => setQuery({ funnel: e.currentTarget.value || undefined })}>
                <option value="">None</option>
                {(funnels.data?.insights || [])
                  .filter((i) => i.kind === 'funnel')
                  .map((i) => (
                    <option value={i.id}>{i.name}</option>
                  ))}
              </select>
            </div>
          )}
          {b !== 'rest' && b !== 'all' && (
            <div class="check">
              <input id="cmp-keep" type="checkbox" checked={overlap === 'keep'} onChange={(e) => setQuery({ overlap: e.currentTarget.checked ? 'keep' : undefined })} />
              <label for="cmp-keep">Count users in both segments in both groups (by default they are left out of both)</label>
            </div>
          )}
        </div>
      )}
      {!a ? null : result.error ? (
        <LoadError error={result.error} retry={result.reload} />
      ) : !result.data ? (
        <Loading label="Comparing…" />
      ) : (
        <Results
          res={result.data}
          site={site.id}
          canWrite={canWrite}
          kind={kind}
          setKind={setKind}
          onlySignificant={onlySignificant}
          setOnlySignificant={setOnlySignificant}
          stale={result.loading}
        />
      )}
    </section>
  );
}

/** The segment editor with a definition written out: its users listed, ready to save. */
function usersHref(site: string, text: string, name: string): string {
  return `/s/${encodeURIComponent(site)}/segments/new?` + new URLSearchParams({ text, name }).toString();
}

function Results(props: {
  res: Comparison;
  site: string;
  canWrite: boolean;
  kind: string;
  setKind: (k: string) => void;
  onlySignificant: boolean;
  setOnlySignificant: (v: boolean) => void;
  stale: boolean;
}) {
  const { res } = props;
  const rows = useMemo(
    () => res.rows.filter((r) => (!props.kind || r.kind === props.kind) && (!props.onlySignificant || r.significant)),
    [res, props.kind, props.onlySignificant],
  );
  const [shown, setShown] = useState(50);
  const significant = res.rows.filter((r) => r.significant).length;
  return (
    <div class={props.stale ? 'stale' : ''}>
      {res.overlap > 0 && (
        <p class="alert" role="note" data-testid="compare-overlap">
          {formatCount(res.overlap)} {res.overlap === 1 ? 'user is' : 'users are'} in both segments.{' '}
          {res.shared === 'counted_in_both'
            ? 'They are counted in both groups, so the groups are not independent and the p-values are optimistic.'
            : `They are left out of both groups: ${res.a.label} is compared without them, and so is ${res.b.label}.`}
        </p>
      )}
      <div class="card">
        <div class="card-head">
          <h2>Side by side</h2>
          <span class="muted">
            {formatCount(res.tests)} differences tested in {formatCount(res.took_ms)} ms
          </span>
        </div>
        <div class="table-wrap">
          <table class="compare-metrics">
            <thead>
              <tr>
                <th scope="col">Measure</th>
                <th scope="col" class="num">
                  {res.a.label}
                </th>
                <th scope="col" class="num">
                  {res.b.label}
                </th>
                <th scope="col" class="num">
                  Difference
                </th>
                <th scope="col" class="num">
                  p (adjusted)
                </th>
                <th scope="col">Test</th>
              </tr>
            </thead>
            <tbody>
              {res.metrics.map((m) => (
                <tr data-metric={m.key}>
                  <th scope="row">
                    {m.label}
                    {m.significant && <span class="badge badge-sig">significant</span>}
                  </th>
                  <td class="num">{m.key === 'users' ? formatCount(m.a) : value(m, m.a)}</td>
                  <td class="num">{m.key === 'users' ? formatCount(m.b) : value(m, m.b)}</td>
                  <td class="num">{m.key === 'users' ? '' : m.measure === 'share' ? signedPct(m.diff) : (m.diff > 0 ? '+' : '') + num(m.diff)}</td>
                  <td class="num">{m.test ? pval(m.q) : ''}</td>
                  <td class="muted">{m.test || ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>

      <div class="card">
        <div class="card-head">
          <h2>What differs</h2>
          <span class="muted" id="cmp-summary">
            {significant === 0 ? 'No significant difference' : `${formatCount(significant)} significant differences`}
          </span>
        </div>
        <div class="filters-inline">
          <div class="field field-inline">
            <label for="cmp-kind">Show</label>
            <select id="cmp-kind" value={props.kind} onChange={(e) => props.setKind(e.currentTarget.value)}>
              {Object.keys(kinds).map((k) => (
                <option value={k}>{kinds[k]}</option>
              ))}
            </select>
          </div>
          <div class="field field-inline check">
            <input
              id="cmp-sig"
              type="checkbox"
              checked={props.onlySignificant}
              onChange={(e) => props.setOnlySignificant(e.currentTarget.checked)}
            />
            <label for="cmp-sig">Significant only</label>
          </div>
        </div>
        <div class="table-wrap">
          <table class="compare-rows">
            <thead>
              <tr>
                <th scope="col" class="num">
                  #
                </th>
                <th scope="col">What</th>
                <th scope="col" class="num">
                  {res.a.label}
                </th>
                <th scope="col" class="num">
                  {res.b.label}
                </th>
                <th scope="col" class="num">
                  Lift
                </th>
                <th scope="col" class="num">
                  p (adjusted)
                </th>
                <th scope="col" class="num">
                  Effect
                </th>
                <th scope="col">Recordings</th>
                {props.canWrite && <th scope="col">Segment</th>}
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, shown).map((r, i) => (
                <Row r={r} i={i} site={props.site} canWrite={props.canWrite} res={res} />
              ))}
            </tbody>
          </table>
        </div>
        {rows.length === 0 && <p class="muted">Nothing to show.</p>}
        {rows.length > shown && (
          <button type="button" class="btn" onClick={() => setShown(shown + 100)}>
            Show more ({formatCount(rows.length - shown)} left)
          </button>
        )}
        <p class="hint">
          Shares are of each group's users (of its sessions, for session properties); "per user" counts every user of the group, zeros
          included. Shares are tested with a two-proportion z test, numbers with Mann–Whitney U, metrics with Welch's t. Effect is
          Cohen's h for shares and d for numbers; rows are ranked by how often a user of one group has the larger value than one of the
          other (Cliff's delta), kinds taking turns. Rows marked "by definition" restate a condition of a group's definition.
        </p>
      </div>
    </div>
  );
}

function value(r: CompareRow, v: number): string {
  return r.measure === 'share' ? pct(v) : num(v);
}

function Row(props: { r: CompareRow; i: number; site: string; canWrite: boolean; res: Comparison }) {
  const { r } = props;
  const [saving, setSaving] = useState('');
  const save = async () => {
    setSaving('…');
    try {
      const s = await post<{ id: string }>(sitePath(props.site, '/segments'), {
        name: r.label,
        description: `From the comparison of ${props.res.a.label} with ${props.res.b.label}.`,
        text: r.segment,
      });
      navigate(`/s/${encodeURIComponent(props.site)}/segments/${encodeURIComponent(s.id)}`);
    } catch (e) {
      setSaving(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <tr data-kind={r.kind} data-key={r.key} data-value={r.value || ''} data-measure={r.measure} class={r.significant ? 'sig' : ''}>
      <td class="num muted">{props.i + 1}</td>
      <th scope="row" class="break">
        {r.label}
        {r.significant && <span class="badge badge-sig">significant</span>}
        {r.defining && <span class="badge">by definition</span>}
        <div class="sub">{r.kind}</div>
      </th>
      <td class="num">{value(r, r.a)}</td>
      <td class="num">{value(r, r.b)}</td>
      <td class="num">{r.lift === undefined ? '—' : signedPct(r.lift)}</td>
      <td class="num" title={r.test + ', unadjusted p ' + pval(r.p)}>
        {pval(r.q)}
      </td>
      <td class="num" title={r.effect_kind}>
        {num(r.effect)}
      </td>
      <td class="actions">
        {r.segment_a && (
          <Link href={recordingsHref(props.site, { text: r.segment_a })} title={'Recordings of ' + props.res.a.label + ': ' + r.segment_a}>
            {props.res.a.label}
          </Link>
        )}
        {r.segment_a && r.segment_b && ' · '}
        {r.segment_b && (
          <Link href={recordingsHref(props.site, { text: r.segment_b })} title={'Recordings of ' + props.res.b.label + ': ' + r.segment_b}>
            {props.res.b.label}
          </Link>
        )}
        {r.segment_a && (
          <div class="sub">
            users:{' '}
            <Link href={usersHref(props.site, r.segment_a, props.res.a.label + ': ' + r.label)} aria-label={'Users of ' + props.res.a.label + ' behind ' + r.label}>
              {props.res.a.label}
            </Link>
            {' · '}
            <Link href={usersHref(props.site, r.segment_b || '', props.res.b.label + ': ' + r.label)} aria-label={'Users of ' + props.res.b.label + ' behind ' + r.label}>
              {props.res.b.label}
            </Link>
          </div>
        )}
      </td>
      {props.canWrite && (
        <td class="actions">
          {r.segment && (
            <button type="button" class="link" onClick={save} title={r.segment}>
              Save as segment
            </button>
          )}
          {saving && saving !== '…' && <span class="field-error">{saving}</span>}
        </td>
      )}
    </tr>
  );
}
