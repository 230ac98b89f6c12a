// Insights: trends, funnels and retention tables over the site's events,
// broken down by segments; saved insights; annotations drawn on the
// charts. Events are written as segment conditions (did("signup"),
// visited(starts_with "/pricing")), so filters mean what they mean in
// segments. The users who dropped at a funnel's step open as recordings
// or become a segment (funnel_step("…") = N - 1).

import { useState } from 'preact/hooks';
import { del, get, post, put, sitePath } from '../api';
import { Empty, LoadError, Loading } from '../components/feedback';
import { FormError, messageOf } from '../components/form';
import { useLoad, useTitle } from '../hooks';
import { navigate, useLocation } from '../router';
import { useSite } from '../session';
import type { SavedSegment } from '../types';
import '../insights/insights.css';
import type { Annotation, FunnelResult, FunnelStep, InsightAnswer, Kind, RetentionResult, SavedInsight, SegmentRef, TrendResult } from '../insights/types';
import { FunnelView, RetentionView, TrendView } from '../insights/views';

interface SeriesForm {
  of: string;
  measure: string;
  property: string;
}

/** A builder's state: every kind's fields, so switching kinds keeps them. */
interface Form {
  series: SeriesForm[];
  interval: string;
  compare: boolean;
  steps: string[];
  window: string;
  start: string;
  ret: string;
  retInterval: string;
  periods: number;
  lastDays: number;
  from: string;
  to: string;
  tz: string;
  segments: string[]; // saved segment IDs
  segmentText: string;
  property: string;
  attribute: string;
}

const blank: Form = {
  series: [{ of: 'did("signup")', measure: 'count', property: '' }],
  interval: 'day',
  compare: false,
  steps: ['visited("/pricing")', 'did("signup")'],
  window: '7d',
  start: 'first_seen',
  ret: 'any',
  retInterval: 'week',
  periods: 8,
  lastDays: 30,
  from: '',
  to: '',
  tz: '', // empty: the site's time zone
  segments: [],
  segmentText: '',
  property: '',
  attribute: '',
};

/** The condition as the API takes it: the words first_seen, any and sessions stay words. */
const cond = (s: string) => s.trim();

function breakdownOf(f: Form, withProperty: boolean): { refs: SegmentRef[]; body: any } {
  const refs: SegmentRef[] = f.segments.map((id) => ({ id }));
  if (f.segmentText.trim()) refs.push({ text: f.segmentText.trim() });
  if (refs.length > 0) return { refs, body: { segments: refs } };
  if (withProperty && f.property.trim()) return { refs, body: { property: f.property.trim() } };
  if (withProperty && f.attribute.trim()) return { refs, body: { attribute: f.attribute.trim() } };
  return { refs, body: undefined };
}

function definitionOf(kind: Kind, f: Form): any {
  const range = f.from && f.to ? { from: f.from, to: f.to } : { last_days: f.lastDays };
  const common = { ...range, tz: f.tz || undefined };
  if (kind === 'trend') {
    return {
      series: f.series.map((s) => ({ of: cond(s.of), measure: s.measure, property: s.property.trim() || undefined })),
      interval: f.interval,
      compare: f.compare || undefined,
      breakdown: breakdownOf(f, true).body,
      ...common,
    };
  }
  if (kind === 'funnel') return { steps: f.steps.map(cond), window: f.window, breakdown: breakdownOf(f, false).body, ...common };
  return { start: cond(f.start), return: cond(f.ret), interval: f.retInterval, periods: f.periods, breakdown: breakdownOf(f, false).body, ...common };
}

/** A form filled from a saved definition. */
function formOf(kind: Kind, d: any): Form {
  const f: Form = { ...blank, tz: d.tz || '', lastDays: d.last_days || 30, from: d.from || '', to: d.to || '' };
  const b = d.breakdown || {};
  f.segments = (b.segments || []).filter((s: SegmentRef) => s.id).map((s: SegmentRef) => s.id!);
  f.segmentText = (b.segments || []).find((s: SegmentRef) => s.text)?.text || '';
  f.property = b.property || '';
  f.attribute = b.attribute || '';
  const text = (v: any) => (typeof v === 'string' ? v : JSON.stringify(v));
  if (kind === 'trend') {
    f.series = (d.series || []).map((s: any) => ({ of: text(s.of), measure: s.measure || 'count', property: s.property || '' }));
    f.interval = d.interval || 'day';
    f.compare = !!d.compare;
  } else if (kind === 'funnel') {
    f.steps = (d.steps || []).map(text);
    f.window = d.window || '7d';
  } else {
    f.start = text(d.start);
    f.ret = text(d.return);
    f.retInterval = d.interval || 'week';
    f.periods = d.periods || 8;
  }
  return f;
}

export function InsightsPage() {
  const site = useSite();
  useTitle('Insights — ' + site.name);
  const { query } = useLocation();
  const savedID = query.get('id') || '';
  const [kind, setKind] = useState<Kind>((query.get('kind') as Kind) || 'trend');
  const [form, setForm] = useState<Form>(blank);
  const [name, setName] = useState('');
  const [result, setResult] = useState<InsightAnswer<any> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState('');
  const saved = useLoad((signal) => get<{ insights: SavedInsight[] }>(sitePath(site.id, '/insights'), { signal }), [site.id]);
  const segments = useLoad((signal) => get<{ segments: SavedSegment[] }>(sitePath(site.id, '/segments'), { signal }), [site.id]);
  const annotations = useLoad((signal) => get<{ annotations: Annotation[] }>(sitePath(site.id, '/annotations'), { signal }), [site.id]);
  const [loadedID, setLoadedID] = useState('');

  const run = async (k: Kind, f: Form) => {
    setBusy(true);
    setError(null);
    setNotice('');
    try {
      setResult(await post<InsightAnswer<any>>(sitePath(site.id, '/insights/' + k), definitionOf(k, f)));
    } catch (e) {
      setResult(null);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  // A saved insight named in the address is loaded into the builder and run.
  if (savedID && savedID !== loadedID && saved.data) {
    const s = saved.data.insights.find((x) => x.id === savedID);
    if (s) {
      const f = formOf(s.kind, s.definition);
      setLoadedID(savedID);
      setKind(s.kind);
      setForm(f);
      setName(s.name);
      run(s.kind, f);
    }
  }

  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm({ ...form, [k]: v });
  const save = async (): Promise<string> => {
    const body = { name: name.trim() || defaultName(kind, form), kind, definition: definitionOf(kind, form) };
    // A saved insight of another kind stays as it is: this one is saved anew.
    const loadedKind = saved.data?.insights.find((x) => x.id === loadedID)?.kind;
    const s =
      loadedID && loadedKind === kind
        ? await put<SavedInsight>(sitePath(site.id, '/insights/' + loadedID), body)
        : await post<SavedInsight>(sitePath(site.id, '/insights'), body);
    setLoadedID(s.id);
    setName(s.name);
    saved.reload();
    navigate(`/s/${encodeURIComponent(site.id)}/insights?id=${encodeURIComponent(s.id)}`, true);
    return s.id;
  };
  const onSave = async () => {
    setError(null);
    try {
      await save();
      setNotice('Saved.');
    } catch (e) {
      setError(e);
    }
  };
  // The users who dropped at a step, as segment text: the funnel saved
  // first, as funnel_step names a saved funnel.
  const droppedText = async (group: number, step: FunnelStep): Promise<string> => {
    const id = await save();
    let text = `funnel_step("${id}") = ${step.step - 1}`;
    const refs = breakdownOf(form, false).refs;
    const ref = group > 0 ? refs[group - 1] : undefined;
    if (ref?.id) text += ` and in_segment("${ref.id}")`;
    else if (ref?.text) text += ` and (${ref.text})`;
    return text;
  };
  const actions = {
    recordings: async (group: number, step: FunnelStep) => {
      try {
        const text = await droppedText(group, step);
        navigate(`/s/${encodeURIComponent(site.id)}/recordings?text=${encodeURIComponent(text)}`);
      } catch (e) {
        setError(e);
      }
    },
    survey: async (group: number, step: FunnelStep) => {
      try {
        const text = await droppedText(group, step);
        const funnel = name.trim() || defaultName('funnel', form);
        const sv = await post<{ id: string }>(sitePath(site.id, '/surveys'), {
          name: `Why not step ${step.step}? (${funnel})`,
          questions: [{ id: 'why', type: 'text', prompt: 'What stopped you from going on?', required: true }],
          targeting: { segment: { text } },
        });
        navigate(`/s/${encodeURIComponent(site.id)}/surveys/${encodeURIComponent(sv.id)}`);
      } catch (e) {
        setError(e);
      }
    },
    saveSegment: async (group: number, step: FunnelStep) => {
      try {
        const text = await droppedText(group, step);
        const seg = await post<SavedSegment>(sitePath(site.id, '/segments'), { name: `Dropped at step ${step.step} of ${name.trim() || defaultName('funnel', form)}`, text });
        navigate(`/s/${encodeURIComponent(site.id)}/segments/${encodeURIComponent(seg.id)}`);
      } catch (e) {
        setError(e);
      }
    },
  };

  return (
    <section>
      <div class="page-head">
        <h1>Insights</h1>
      </div>
      <p class="lead">
        Count what users do over time, where they drop out of a flow and whether they come back, broken down by segments. Events are
        segment conditions: <code>did("signup")</code>, <code>did("checkout", amount &gt; 10)</code>, <code>visited(starts_with "/pricing")</code>.
      </p>
      {saved.error ? (
        <LoadError error={saved.error} retry={saved.reload} />
      ) : saved.data && saved.data.insights.length > 0 ? (
        <nav class="insight-saved" aria-label="Saved insights">
          {saved.data.insights.map((s) => (
            <a key={s.id} class="btn btn-small" href={`/s/${encodeURIComponent(site.id)}/insights?id=${encodeURIComponent(s.id)}`} aria-current={s.id === loadedID ? 'page' : undefined} onClick={(e) => { e.preventDefault(); setLoadedID(''); navigate(`/s/${encodeURIComponent(site.id)}/insights?id=${encodeURIComponent(s.id)}`); }}>
              {s.name} <span class="muted">({s.kind}{s.pinned ? ', pinned' : ''})</span>
            </a>
          ))}
        </nav>
      ) : null}
      <div class="insight-kinds" role="group" aria-label="Kind of insight">
        {(['trend', 'funnel', 'retention'] as Kind[]).map((k) => (
          <button key={k} type="button" class="btn" aria-pressed={kind === k} onClick={() => { setKind(k); setResult(null); setError(null); }}>
            {k === 'trend' ? 'Trend' : k === 'funnel' ? 'Funnel' : 'Retention'}
          </button>
        ))}
      </div>
      <form class="card insight-form" onSubmit={(e) => { e.preventDefault(); run(kind, form); }}>
        {kind === 'trend' && <TrendFields form={form} set={set} />}
        {kind === 'funnel' && <FunnelFields form={form} set={set} />}
        {kind === 'retention' && <RetentionFields form={form} set={set} />}
        <RangeFields form={form} set={set} />
        <BreakdownFields form={form} set={set} segments={segments.data?.segments || []} withProperty={kind === 'trend'} />
        <div class="insight-row">
          <button type="submit" class="btn btn-primary" disabled={busy}>{busy ? 'Computing…' : 'Compute'}</button>
          <div class="field field-inline">
            <label for="ins-name">Name</label>
            <input id="ins-name" type="text" value={name} placeholder={defaultName(kind, form)} onInput={(e) => setName(e.currentTarget.value)} />
          </div>
          <button type="button" class="btn" onClick={onSave}>{loadedID ? 'Save changes' : 'Save insight'}</button>
          {loadedID && <PinButton site={site.id} insight={saved.data?.insights.find((x) => x.id === loadedID)} changed={saved.reload} onError={setError} />}
          {loadedID && (
            <button type="button" class="btn btn-danger btn-small" onClick={async () => { await del(sitePath(site.id, '/insights/' + loadedID)); setLoadedID(''); saved.reload(); navigate(`/s/${encodeURIComponent(site.id)}/insights`, true); }}>
              Delete
            </button>
          )}
        </div>
        <FormError error={error} />
        {notice && <p role="status">{notice}</p>}
      </form>
      {busy && !result ? <Loading label="Computing…" /> : null}
      {result && result.kind === kind && (
        <div class="card" aria-live="polite">
          <p class="muted">Computed in {result.took_ms} ms.</p>
          {kind === 'trend' && <TrendView result={result.result as TrendResult} annotations={annotations.data?.annotations || []} />}
          {kind === 'funnel' && <FunnelView result={result.result as FunnelResult} actions={actions} />}
          {kind === 'retention' && <RetentionView result={result.result as RetentionResult} />}
        </div>
      )}
      <Annotations site={site.id} list={annotations.data?.annotations} reload={annotations.reload} />
    </section>
  );
}

/** Pins the saved insight to the site's overview, or unpins it. */
function PinButton(props: { site: string; insight?: SavedInsight; changed: () => void; onError: (e: unknown) => void }) {
  const ins = props.insight;
  if (!ins) return null;
  const path = sitePath(props.site, `/insights/${encodeURIComponent(ins.id)}/pin`);
  return (
    <button
      type="button"
      class="btn btn-small"
      aria-pressed={!!ins.pinned}
      onClick={async () => {
        try {
          await (ins.pinned ? del(path) : put(path, {}));
          props.changed();
        } catch (e) {
          props.onError(e);
        }
      }}
    >
      {ins.pinned ? 'Unpin from overview' : 'Pin to overview'}
    </button>
  );
}

function defaultName(kind: Kind, f: Form): string {
  if (kind === 'funnel') return 'Funnel: ' + f.steps.join(' → ');
  if (kind === 'retention') return `Retention: ${f.start} → ${f.ret}`;
  return 'Trend: ' + f.series.map((s) => s.of).join(', ');
}

type SetField = <K extends keyof Form>(k: K, v: Form[K]) => void;

function TrendFields(props: { form: Form; set: SetField }) {
  const { form, set } = props;
  const setSeries = (i: number, s: Partial<SeriesForm>) => set('series', form.series.map((x, j) => (j === i ? { ...x, ...s } : x)));
  return (
    <>
      {form.series.map((s, i) => (
        <div class="insight-row" key={i}>
          <div class="field">
            <label for={`ins-of-${i}`}>Series {i + 1}: what to count</label>
            <input id={`ins-of-${i}`} type="text" value={s.of} placeholder='did("signup"), visited("/pricing") or sessions' onInput={(e) => setSeries(i, { of: e.currentTarget.value })} />
          </div>
          <div class="field">
            <label for={`ins-measure-${i}`}>Measure</label>
            <select id={`ins-measure-${i}`} value={s.measure} onChange={(e) => setSeries(i, { measure: e.currentTarget.value })}>
              <option value="count">Count</option>
              <option value="users">Unique users</option>
              <option value="per_user">Average per user</option>
              <option value="sum">Sum of a property</option>
              <option value="avg">Average of a property</option>
            </select>
          </div>
          {(s.measure === 'sum' || s.measure === 'avg') && (
            <div class="field">
              <label for={`ins-prop-${i}`}>Numeric property</label>
              <input id={`ins-prop-${i}`} type="text" value={s.property} onInput={(e) => setSeries(i, { property: e.currentTarget.value })} />
            </div>
          )}
          {form.series.length > 1 && (
            <button type="button" class="btn btn-small btn-ghost" onClick={() => set('series', form.series.filter((_, j) => j !== i))}>Remove</button>
          )}
        </div>
      ))}
      <div class="insight-row">
        {form.series.length < 5 && (
          <button type="button" class="btn btn-small" onClick={() => set('series', [...form.series, { of: '', measure: 'count', property: '' }])}>Add a series</button>
        )}
        <div class="field">
          <label for="ins-interval">Interval</label>
          <select id="ins-interval" value={form.interval} onChange={(e) => set('interval', e.currentTarget.value)}>
            <option value="hour">Hour</option>
            <option value="day">Day</option>
            <option value="week">Week</option>
            <option value="month">Month</option>
          </select>
        </div>
        <label class="check">
          <input type="checkbox" checked={form.compare} onChange={(e) => set('compare', e.currentTarget.checked)} /> Compare with the previous period
        </label>
      </div>
    </>
  );
}

function FunnelFields(props: { form: Form; set: SetField }) {
  const { form, set } = props;
  return (
    <>
      <ol class="insight-steps">
        {form.steps.map((s, i) => (
          <li key={i} class="insight-row">
            <div class="field">
              <label for={`ins-step-${i}`}>Step {i + 1}</label>
              <input id={`ins-step-${i}`} type="text" value={s} onInput={(e) => set('steps', form.steps.map((x, j) => (j === i ? e.currentTarget.value : x)))} />
            </div>
            {form.steps.length > 2 && (
              <button type="button" class="btn btn-small btn-ghost" onClick={() => set('steps', form.steps.filter((_, j) => j !== i))}>Remove</button>
            )}
          </li>
        ))}
      </ol>
      <div class="insight-row">
        {form.steps.length < 10 && (
          <button type="button" class="btn btn-small" onClick={() => set('steps', [...form.steps, ''])}>Add a step</button>
        )}
        <div class="field">
          <label for="ins-window">Conversion window</label>
          <input id="ins-window" type="text" size={6} value={form.window} onInput={(e) => set('window', e.currentTarget.value)} />
        </div>
      </div>
    </>
  );
}

function RetentionFields(props: { form: Form; set: SetField }) {
  const { form, set } = props;
  return (
    <div class="insight-row">
      <div class="field">
        <label for="ins-start">Cohort: first time of</label>
        <input id="ins-start" type="text" value={form.start} placeholder='first_seen or did("signup")' onInput={(e) => set('start', e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="ins-return">Coming back means</label>
        <input id="ins-return" type="text" value={form.ret} placeholder='any or did("export")' onInput={(e) => set('ret', e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="ins-rinterval">Periods of</label>
        <select id="ins-rinterval" value={form.retInterval} onChange={(e) => set('retInterval', e.currentTarget.value)}>
          <option value="day">Days</option>
          <option value="week">Weeks</option>
        </select>
      </div>
      <div class="field">
        <label for="ins-periods">Periods</label>
        <input id="ins-periods" type="number" min={1} max={30} value={form.periods} onInput={(e) => set('periods', Number(e.currentTarget.value))} />
      </div>
    </div>
  );
}

function RangeFields(props: { form: Form; set: SetField }) {
  const { form, set } = props;
  const site = useSite();
  return (
    <div class="insight-row">
      <div class="field">
        <label for="ins-last">Range</label>
        <select id="ins-last" value={form.from && form.to ? '0' : String(form.lastDays)} onChange={(e) => { const v = Number(e.currentTarget.value); if (v > 0) props.set('lastDays', v); }}>
          <option value="7">Last 7 days</option>
          <option value="30">Last 30 days</option>
          <option value="90">Last 90 days</option>
          <option value="180">Last 180 days</option>
          <option value="0">From … to …</option>
        </select>
      </div>
      <div class="field">
        <label for="ins-from">From</label>
        <input id="ins-from" type="date" value={form.from} onInput={(e) => set('from', e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="ins-to">To</label>
        <input id="ins-to" type="date" value={form.to} onInput={(e) => set('to', e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="ins-tz">Time zone</label>
        <input
          id="ins-tz"
          type="text"
          size={16}
          value={form.tz}
          placeholder={(site.time_zone || 'UTC') + ' (the site’s)'}
          aria-describedby="ins-tz-hint"
          onInput={(e) => set('tz', e.currentTarget.value)}
        />
        <span id="ins-tz-hint" class="sr-only">
          Empty: the site’s time zone, {site.time_zone || 'UTC'}
        </span>
      </div>
    </div>
  );
}

function BreakdownFields(props: { form: Form; set: SetField; segments: SavedSegment[]; withProperty: boolean }) {
  const { form, set } = props;
  return (
    <fieldset class="insight-breakdown">
      <legend>Break down by segments (up to 5)</legend>
      <div class="insight-row">
        {props.segments.map((s) => (
          <label key={s.id} class="check">
            <input type="checkbox" checked={form.segments.includes(s.id)} onChange={(e) => set('segments', e.currentTarget.checked ? [...form.segments, s.id] : form.segments.filter((x) => x !== s.id))} /> {s.name}
          </label>
        ))}
      </div>
      <div class="insight-row">
        <div class="field">
          <label for="ins-segtext">A segment written out</label>
          <input id="ins-segtext" type="text" value={form.segmentText} placeholder='plan = "pro"' onInput={(e) => set('segmentText', e.currentTarget.value)} />
        </div>
        {props.withProperty && (
          <div class="field">
            <label for="ins-bprop">…or an event property's top values</label>
            <input id="ins-bprop" type="text" value={form.property} onInput={(e) => set('property', e.currentTarget.value)} />
          </div>
        )}
        {props.withProperty && (
          <div class="field">
            <label for="ins-battr">…or a user attribute's top values</label>
            <input id="ins-battr" type="text" value={form.attribute} placeholder="plan" onInput={(e) => set('attribute', e.currentTarget.value)} />
          </div>
        )}
      </div>
    </fieldset>
  );
}

/** Today's date (YYYY-MM-DD) in a time zone; UTC's when the browser does not know the zone. */
function todayIn(tz: string): string {
  try {
    // en-CA writes dates as YYYY-MM-DD.
    return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

function Annotations(props: { site: string; list?: Annotation[]; reload: () => void }) {
  const site = useSite();
  // Annotations are days of the site's time zone, as the charts' buckets are.
  const [date, setDate] = useState(todayIn(site.time_zone || 'UTC'));
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  return (
    <section class="card" aria-labelledby="ann-head">
      <h2 id="ann-head">Annotations</h2>
      <p class="muted">
        Dated notes drawn on every trend. A deploy hook can post one with the site's write key:{' '}
        <code>curl -u WRITE_KEY: -d '{'{'}"text":"v2 deployed"{'}'}' …/api/v1/sites/{props.site}/annotations</code>
      </p>
      {!props.list ? null : props.list.length === 0 ? (
        <Empty title="No annotations yet" />
      ) : (
        <ul class="annotation-list">
          {props.list.map((a) => (
            <li key={a.id}>
              <time dateTime={a.date}>{a.date}</time> {a.text} <span class="muted">({a.source})</span>{' '}
              <button type="button" class="btn btn-small btn-ghost" aria-label={`Delete the annotation ${a.text}`} onClick={async () => { await del(sitePath(props.site, '/annotations/' + a.id)); props.reload(); }}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
      <form class="insight-row" onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        try {
          await post(sitePath(props.site, '/annotations'), { date, text });
          setText('');
          props.reload();
        } catch (err) {
          setError(err);
        }
      }}>
        <div class="field">
          <label for="ann-date">Date</label>
          <input id="ann-date" type="date" value={date} onInput={(e) => setDate(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="ann-text">Note</label>
          <input id="ann-text" type="text" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        <button type="submit" class="btn">Add annotation</button>
        {error ? <p class="field-error" role="alert">{messageOf(error)}</p> : null}
      </form>
    </section>
  );
}
