// A survey's results: counts, the NPS with its trend and a breakdown by
// segments chosen here, each question's distribution, the open-text
// answers with the score and who gave them (profile and recordings), and
// CSV export with its columns chosen. Everything can be narrowed to the
// respondents of one segment and to one NPS group.

import { useState } from 'preact/hooks';
import { get, query, sitePath } from '../api';
import { Bars, type Bar } from '../components/bars';
import { LineChart } from '../components/chart';
import { type Column, ExportCSV } from '../components/export';
import { Empty, LoadError, Loading } from '../components/feedback';
import { Field } from '../components/form';
import { useCatalog, userKeys } from '../catalog';
import { Ago } from '../components/values';
import { formatCount } from '../format';
import { useLoad, useTitle } from '../hooks';
import type { PageProps } from '../router';
import { Link, useLocation } from '../router';
import { useSite } from '../session';
import type { NPSSummary, QuestionResult, Response, Results, Survey } from '../surveys/types';
import { Respondent } from '../surveys/respondent';
import { statusLabel } from '../surveys/types';
import type { SavedSegment } from '../types';

/** The filters of the results, the answers and the export. */
export interface ResultFilter {
  segment: string;
  nps_group: string;
  // A segment written out (from the address: an experiment's variant),
  // used when no saved segment is chosen.
  segment_text?: string;
}

export function SurveyResultsPage(props: PageProps) {
  const site = useSite();
  const id = props.params.id;
  const [interval, setStep] = useState('week');
  const [chosen, setChosen] = useState<string[]>([]);
  const given = useLocation().query.get('segment_text') || '';
  const [filter, setFilter] = useState<ResultFilter>({ segment: '', nps_group: '', segment_text: given || undefined });
  const path = sitePath(site.id, '/surveys/' + encodeURIComponent(id));
  const res = useLoad(
    (signal) => get<{ survey: Survey; results: Results }>(path + '/results' + query({ interval, segments: chosen.join(','), ...filter }), { signal }),
    [site.id, id, interval, chosen.join(','), filter.segment, filter.nps_group, filter.segment_text],
  );
  const segments = useLoad((signal) => get<{ segments: SavedSegment[] }>(sitePath(site.id, '/segments'), { signal }), [site.id]);
  const cat = useCatalog(site.id);
  // The key attributes the server adds to responses (and to the export
  // by default), read from one response.
  const sample = useLoad((signal) => get<{ responses: Response[] }>(path + '/responses?limit=1', { signal }), [path]);
  const keyAttrs = site.key_attributes?.length ? site.key_attributes : Object.keys(sample.data?.responses[0]?.attributes || {});
  const s = res.data?.survey;
  useTitle((s ? s.definition.name : 'Survey') + ' — results');
  if (res.error && !res.data) return <LoadError error={res.error} retry={res.reload} />;
  if (!res.data || !s) return <Loading />;
  const r = res.data.results;
  const base = `/s/${encodeURIComponent(site.id)}/surveys`;
  const filtered = !!(filter.segment || filter.nps_group || filter.segment_text);
  const hasNPS = s.definition.questions.some((q) => q.type === 'nps');
  const questionIDs = s.definition.questions.map((q) => q.id);
  return (
    <section>
      <p class="crumbs">
        <Link href={base}>Surveys</Link> /
      </p>
      <div class="page-head">
        <h1>{s.definition.name || s.id}</h1>
        <div class="head-actions">
          <span class={'badge survey-' + s.status}>{statusLabel[s.status]}</span>
          <Link href={`${base}/${encodeURIComponent(id)}`} class="btn">
            Definition
          </Link>
          <ExportCSV
            href={path + '/responses.csv' + query({ ...filter })}
            fields={[...responseFields, ...s.definition.questions.filter((q) => !responseFields.some((f) => f.key === q.id)).map((q) => ({ key: q.id, label: 'answer: ' + (q.prompt || q.id) }))]}
            attributes={userKeys(cat.data).map((k) => k.key)}
            defaults={[...responseFields.map((f) => f.key), ...questionIDs, ...keyAttrs]}
            storageKey={'sl.export.responses.' + site.id}
          />
        </div>
      </div>
      <Filters segments={segments.data?.segments || []} filter={filter} setFilter={setFilter} hasNPS={hasNPS} />
      {res.error && <LoadError error={res.error} retry={res.reload} />}
      <dl class={'stat-row' + (res.loading ? ' stale' : '')}>
        <div>
          <dt>Responses</dt>
          <dd data-stat="responses">{formatCount(r.responses)}</dd>
        </div>
        <div>
          <dt>Completed</dt>
          <dd data-stat="completed">{formatCount(r.completed)}</dd>
        </div>
        <div>
          <dt>Partial</dt>
          <dd>{formatCount(r.partial)}</dd>
        </div>
        <div>
          <dt>{filtered ? 'Dismissed (all visitors)' : 'Dismissed'}</dt>
          <dd>{formatCount(r.dismissed)}</dd>
        </div>
      </dl>
      {r.nps && (
        <div class="card">
          <h2>Net Promoter Score</h2>
          <div class="grid-2">
            <div>
              <p class="nps-big" data-nps-score>
                {r.nps.score === null ? '—' : r.nps.score}
              </p>
              <p class="hint">% promoters (9–10) − % detractors (0–6), of {formatCount(r.nps.responses)} answers.</p>
              <Bars caption="NPS groups" bars={npsBars(r.nps)} />
            </div>
            <div>
              <div class="toolbar">
                <label for="nps-interval">Trend by</label>
                <select id="nps-interval" value={interval} onChange={(e) => setStep(e.currentTarget.value)}>
                  <option value="day">day</option>
                  <option value="week">week</option>
                </select>
              </div>
              <NPSTrend trend={r.trend || []} interval={interval} />
            </div>
          </div>
          <Breakdown segments={segments.data?.segments || []} chosen={chosen} setChosen={setChosen} results={r} />
        </div>
      )}
      {r.responses === 0 && filtered && (
        <Empty title="No response matches these filters">
          <p>Choose another segment or NPS group, or everyone.</p>
        </Empty>
      )}
      {r.questions.map((q) => (
        <QuestionCard key={q.id} q={q} survey={s} filter={filter} />
      ))}
    </section>
  );
}

/** The response fields a CSV export can hold, before the answers. */
const responseFields: Column[] = [
  { key: 'response_id', label: 'response ID' },
  { key: 'created_at', label: 'started at' },
  { key: 'completed_at', label: 'completed at' },
  { key: 'completed', label: 'completed' },
  { key: 'user_id', label: 'user ID' },
  { key: 'anonymous_id', label: 'anonymous ID' },
  { key: 'session_id', label: 'session ID' },
  { key: 'url', label: 'page URL' },
  { key: 'nps', label: 'NPS score' },
];

const npsGroups: [string, string][] = [
  ['promoter', 'Promoters (9–10)'],
  ['passive', 'Passives (7–8)'],
  ['detractor', 'Detractors (0–6)'],
];

/** The segment and NPS group every number of the page is narrowed to. */
function Filters(props: { segments: SavedSegment[]; filter: ResultFilter; setFilter: (f: ResultFilter) => void; hasNPS: boolean }) {
  const { filter, setFilter } = props;
  return (
    <div class="toolbar results-filters" role="group" aria-label="Filter the responses">
      <Field label="Respondents in segment">
        {(p) => (
          <select {...p} value={filter.segment} onChange={(e) => setFilter({ ...filter, segment: e.currentTarget.value, segment_text: undefined })}>
            <option value="">Everyone</option>
            {props.segments.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      {props.hasNPS && (
        <Field label="NPS group">
          {(p) => (
            <select {...p} value={filter.nps_group} onChange={(e) => setFilter({ ...filter, nps_group: e.currentTarget.value })}>
              <option value="">All answers</option>
              {npsGroups.map(([g, l]) => (
                <option key={g} value={g}>
                  {l}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      {filter.segment_text && !filter.segment && (
        <p class="muted" data-testid="segment-text-filter">
          Respondents in <code>{filter.segment_text}</code>
        </p>
      )}
      {(filter.segment || filter.nps_group || filter.segment_text) && (
        <button type="button" class="btn" onClick={() => setFilter({ segment: '', nps_group: '' })}>
          Show everyone
        </button>
      )}
    </div>
  );
}

function npsBars(n: NPSSummary): Bar[] {
  return [
    { label: 'Promoters', value: n.promoters, tone: 'promoter' },
    { label: 'Passives', value: n.passives, tone: 'passive' },
    { label: 'Detractors', value: n.detractors, tone: 'detractor' },
  ];
}

// Breakdown lets the person pick saved segments and shows the NPS of each.
function Breakdown(props: { segments: SavedSegment[]; chosen: string[]; setChosen: (ids: string[]) => void; results: Results }) {
  const { chosen, setChosen } = props;
  return (
    <div class="breakdown">
      <h3>By segment</h3>
      {props.segments.length === 0 ? (
        <p class="muted">Save segments to compare their NPS here.</p>
      ) : (
        <fieldset class="chips">
          <legend class="sr-only">Segments to compare</legend>
          {props.segments.map((sg) => (
            <label key={sg.id} class="check">
              <input
                type="checkbox"
                checked={chosen.includes(sg.id)}
                onChange={(e) => setChosen(e.currentTarget.checked ? [...chosen, sg.id] : chosen.filter((x) => x !== sg.id))}
              />
              {sg.name}
            </label>
          ))}
        </fieldset>
      )}
      {props.results.segments && props.results.segments.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Segment (members now)</th>
                <th scope="col" class="num">
                  Respondents
                </th>
                <th scope="col" class="num">
                  Completed
                </th>
                <th scope="col" class="num">
                  NPS
                </th>
              </tr>
            </thead>
            <tbody>
              {props.results.segments.map((sg) => (
                <tr key={sg.id} data-segment={sg.id}>
                  <td>{sg.name}</td>
                  <td class="num">{formatCount(sg.respondents)}</td>
                  <td class="num">{formatCount(sg.completed)}</td>
                  <td class="num">{sg.nps.score === null ? '—' : sg.nps.score}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function QuestionCard(props: { q: QuestionResult; survey: Survey; filter: ResultFilter }) {
  const { q } = props;
  const def = props.survey.definition.questions.find((x) => x.id === q.id);
  let bars: Bar[] = [];
  if (q.counts) {
    const keys = def && def.options ? def.options : Object.keys(q.counts).sort((a, b) => Number(a) - Number(b));
    bars = keys.map((k) => ({ label: k, value: q.counts![k] || 0 }));
  }
  return (
    <div class="card" data-question={q.id}>
      <div class="card-head">
        <h2>{q.prompt}</h2>
        <span class="muted">
          {formatCount(q.answered)} answered{q.average !== undefined ? ` · average ${q.average.toFixed(1)}` : ''}
        </span>
      </div>
      {q.type === 'text' ? <TextAnswers survey={props.survey} question={q.id} filter={props.filter} /> : <Bars caption={q.prompt} bars={bars} compact={q.type === 'nps'} />}
    </div>
  );
}

/**
 * The score to show beside a response's text answers: its NPS answer, else
 * its answer to the survey's first rating question.
 */
function scoreOf(survey: Survey, r: Response): { value: number; of: string; group?: string } | null {
  if (r.nps !== null && r.nps !== undefined) return { value: r.nps, of: 'NPS', group: r.nps >= 9 ? 'promoter' : r.nps >= 7 ? 'passive' : 'detractor' };
  const rating = survey.definition.questions.find((q) => q.type === 'rating');
  const v = rating ? r.answers[rating.id] : undefined;
  return typeof v === 'number' ? { value: v, of: 'rating' } : null;
}

// TextAnswers lists a text question's answers with the response's score
// and the respondent's attributes, profile and recordings, newest first,
// page by page, filtered as the results are.
function TextAnswers(props: { survey: Survey; question: string; filter: ResultFilter }) {
  const site = useSite();
  const [pages, setPages] = useState<Response[][]>([]);
  const [cursor, setCursor] = useState('');
  const path = sitePath(site.id, '/surveys/' + encodeURIComponent(props.survey.id) + '/responses');
  const { segment, nps_group } = props.filter;
  const first = useLoad(async (signal) => {
    const r = await get<{ responses: Response[]; next_cursor: string }>(path + query({ limit: 50, segment, nps_group }), { signal });
    setPages([r.responses]);
    setCursor(r.next_cursor || '');
    return r;
  }, [path, segment, nps_group]);
  const more = async () => {
    const r = await get<{ responses: Response[]; next_cursor: string }>(path + query({ limit: 50, cursor, segment, nps_group }));
    setPages([...pages, r.responses]);
    setCursor(r.next_cursor || '');
  };
  if (first.error) return <LoadError error={first.error} retry={first.reload} />;
  if (!first.data) return <Loading />;
  const rows = pages.flat().filter((r) => typeof r.answers[props.question] === 'string');
  const hasScore = props.survey.definition.questions.some((q) => q.type === 'nps' || q.type === 'rating');
  if (rows.length === 0)
    return cursor ? (
      <button type="button" class="btn btn-small" onClick={() => void more()}>
        Look further back for answers
      </button>
    ) : (
      <Empty title={segment || nps_group ? 'No text answer matches these filters' : 'No text answers yet'} />
    );
  return (
    <>
      <div class="table-wrap">
        <table class="answers">
          <thead>
            <tr>
              {hasScore && (
                <th scope="col" class="num answer-score">
                  Score
                </th>
              )}
              <th scope="col">Answer</th>
              <th scope="col">Who</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const score = scoreOf(props.survey, r);
              return (
                <tr key={r.response_id} data-response={r.response_id}>
                  {hasScore && (
                    <td class="num answer-score" data-score={score ? score.value : ''}>
                      {score ? (
                        <span class={'score' + (score.group ? ' score-' + score.group : '')} title={score.of + (score.group ? ', ' + score.group : '')}>
                          {score.value}
                        </span>
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                  )}
                  <td class="answer-text">{String(r.answers[props.question])}</td>
                  <Respondent site={site.id} userID={r.user_id} anonymousID={r.anonymous_id} recordingID={r.recording_id} hasRecordings={r.has_recordings} attributes={r.attributes} />
                  <td>
                    <Ago at={r.created_at} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {cursor && (
        <button type="button" class="btn btn-small" onClick={() => void more()}>
          More answers
        </button>
      )}
    </>
  );
}

// NPSTrend draws the NPS of each finished period with enough answers; the
// period under way and periods with few answers are told in words, with
// their counts, rather than drawn as if they were solid.
function NPSTrend(props: { trend: NonNullable<Results['trend']>; interval: string }) {
  const solid = props.trend.filter((p) => p.nps.score !== null && !p.partial && !p.few);
  const current = props.trend.find((p) => p.partial);
  const few = props.trend.filter((p) => p.few && !p.partial).length;
  const period = props.interval === 'day' ? 'day' : 'week';
  if (props.trend.length === 0) return <p class="muted">No trend yet.</p>;
  return (
    <>
      {solid.length > 0 ? (
        <LineChart label="NPS" points={solid.map((p) => ({ date: p.start.slice(0, 10), value: p.nps.score as number }))} />
      ) : (
        <p class="muted">No finished {period} has enough answers to draw yet.</p>
      )}
      <p class="hint">
        {current && current.nps.score !== null
          ? `This ${period} so far: NPS ${Math.round(current.nps.score)} from ${current.nps.responses} answer${current.nps.responses === 1 ? '' : 's'} (not drawn until it ends). `
          : ''}
        {few > 0 ? `${few} ${period}${few === 1 ? '' : 's'} with fewer than 10 answers ${few === 1 ? 'is' : 'are'} left out of the line.` : ''}
      </p>
    </>
  );
}
