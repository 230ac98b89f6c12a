// The survey builder: questions of every type with branching, the
// thank-you step, appearance with a live preview, and targeting (a saved
// or written segment, URL rules, devices, trigger, frequency, sampling,
// quota). A survey is saved as a draft and launched, paused, resumed or
// ended through the status API; the API's validation errors show beside
// the fields they name.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, post, put, sitePath } from '../api';
import { LoadError, Loading, Notice } from '../components/feedback';
import { ColourField } from '../components/colour';
import { Field, messageOf } from '../components/form';
import { EventNames, useTrackEvents } from '../events';
import { useLoad, useTitle } from '../hooks';
import type { PageProps } from '../router';
import { Link, navigate } from '../router';
import { allows, siteAccess, useSession, useSite } from '../session';
import { SurveyPreview } from '../surveys/preview';
import { QuestionEditor, type Problems } from '../surveys/questions';
import type { Definition, Survey, Targeting } from '../surveys/types';
import { blankDefinition, complete, statusLabel } from '../surveys/types';
import type { SavedSegment } from '../types';

export function SurveyBuilderPage(props: PageProps) {
  const site = useSite();
  const id = props.params.id;
  const path = sitePath(site.id, '/surveys' + (id ? '/' + encodeURIComponent(id) : ''));
  const loaded = useLoad((signal) => (id ? get<Survey>(path, { signal }) : Promise.resolve(null)), [path]);
  if (loaded.error) return <LoadError error={loaded.error} retry={loaded.reload} />;
  if (loaded.data === undefined) return <Loading />;
  return <Builder key={id || 'new'} survey={loaded.data} />;
}

function Builder(props: { survey: Survey | null }) {
  const site = useSite();
  const { me } = useSession();
  const [survey, setSurvey] = useState<Survey | null>(props.survey);
  const [def, setDef] = useState<Definition>(props.survey ? complete(props.survey.definition) : blankDefinition());
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState('');
  useTitle((def.name || 'New survey') + ' — surveys');
  const canWrite = allows(siteAccess(site, me.account.role), 'write');
  const status = survey ? survey.status : 'draft';
  const editable = canWrite && (status === 'draft' || status === 'paused');
  const segments = useLoad((signal) => get<{ segments: SavedSegment[] }>(sitePath(site.id, '/segments'), { signal }), [site.id]);
  const base = `/s/${encodeURIComponent(site.id)}/surveys`;

  const problems: Problems = (p) => {
    if (!(error instanceof ApiError)) return undefined;
    const list = error.details && error.details.length ? (error.details as unknown as { field?: string; message: string }[]) : [{ field: error.field, message: error.message }];
    const hits = list.filter((d) => d.field === p).map((d) => d.message);
    return hits.length ? hits.join('; ') : undefined;
  };

  // save stores the definition (creating the survey the first time) and
  // returns it, or null when the API refused it.
  const save = async (go = true): Promise<Survey | null> => {
    setError(null);
    setNotice('');
    const clean = tidy(def);
    try {
      const s = survey ? await put<Survey>(sitePath(site.id, '/surveys/' + encodeURIComponent(survey.id)), clean) : await post<Survey>(sitePath(site.id, '/surveys'), clean);
      setSurvey(s);
      setDef(complete(s.definition));
      if (!survey && go) navigate(`${base}/${encodeURIComponent(s.id)}`, true);
      return s;
    } catch (e) {
      setError(e);
      return null;
    }
  };
  const act = async (fn: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    try {
      await fn();
    } finally {
      setBusy(false);
    }
  };
  const setStatus = (to: string, saveFirst: boolean) =>
    act(async () => {
      let s = survey;
      if (saveFirst) s = await save(false);
      if (!s) return;
      try {
        const out = await post<Survey>(sitePath(site.id, '/surveys/' + encodeURIComponent(s.id) + '/status'), { status: to });
        setSurvey(out);
        if (!survey) navigate(`${base}/${encodeURIComponent(s.id)}`, true);
        setNotice({ live: 'The survey is live.', paused: 'The survey is paused: edit it, then resume.', ended: 'The survey has ended.' }[to] || '');
      } catch (e) {
        setError(e);
      }
    });

  const set = (d: Partial<Definition>) => setDef({ ...def, ...d });
  const setT = (t: Partial<Targeting>) => setDef({ ...def, targeting: { ...def.targeting, ...t } });
  const otherErrors = error instanceof ApiError && !error.details?.length && !error.field;
  const problemCount = error instanceof ApiError && error.details ? error.details.length : 0;
  return (
    <section>
      <p class="crumbs">
        <Link href={base}>Surveys</Link> /
      </p>
      <div class="page-head">
        <h1>{survey ? def.name || survey.id : 'New survey'}</h1>
        <div class="head-actions">
          <span class={'badge survey-' + status} data-status={status}>
            {statusLabel[status]}
          </span>
          {survey && survey.status !== 'draft' && (
            <Link href={`${base}/${encodeURIComponent(survey.id)}/results`} class="btn">
              Results
            </Link>
          )}
        </div>
      </div>
      {!editable && canWrite && status === 'live' && <p class="alert alert-warn">The survey is live: pause it to change it.</p>}
      {status === 'ended' && <p class="alert alert-warn">The survey has ended; make a new one to ask again.</p>}
      {notice && <Notice>{notice}</Notice>}
      {error ? (
        <div class="alert alert-error" role="alert">
          {problemCount > 1 ? `The survey has ${problemCount} problems; each is shown beside its field.` : otherErrors || !(error instanceof ApiError) ? messageOf(error) : 'The survey has a problem, shown beside its field.'}
        </div>
      ) : null}
      <form
        class="builder-grid"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            if (await save()) setNotice('Saved.');
          });
        }}
      >
        <div class="builder-top">
          <div class="card">
            <Field label="Name" error={problems('name')}>
              {(p) => <input {...p} value={def.name} maxLength={200} disabled={!editable} placeholder="Q3 NPS" onInput={(e) => set({ name: e.currentTarget.value })} />}
            </Field>
          </div>
          <h2>Questions</h2>
          {problems('questions') && <p class="field-error">{problems('questions')}</p>}
          {def.questions.map((q, i) => (
            <QuestionEditor
              key={i}
              q={q}
              index={i}
              all={def.questions}
              disabled={!editable}
              problems={problems}
              set={(nq) => set({ questions: def.questions.map((x, j) => (j === i ? nq : x)) })}
              remove={() => set({ questions: def.questions.filter((_, j) => j !== i) })}
              move={(by) => {
                const qs = def.questions.slice();
                const [x] = qs.splice(i, 1);
                qs.splice(i + by, 0, x);
                set({ questions: qs });
              }}
            />
          ))}
          {editable && def.questions.length < 20 && (
            <button type="button" class="btn add-question" onClick={() => set({ questions: [...def.questions, { id: 'q' + (def.questions.length + 1), type: 'single_choice', prompt: '', required: false, options: ['Option 1', 'Option 2'] }] })}>
              Add a question
            </button>
          )}
          <div class="card appearance">
            <div class="grid-2">
              <div>
                <h2>Thank-you step</h2>
                <Field label="Title" error={problems('thank_you.title')}>
                  {(p) => <input {...p} value={def.thank_you.title} maxLength={200} disabled={!editable} onInput={(e) => set({ thank_you: { ...def.thank_you, title: e.currentTarget.value } })} />}
                </Field>
                <Field label="Message" error={problems('thank_you.message')}>
                  {(p) => <textarea {...p} rows={2} value={def.thank_you.message} maxLength={1000} disabled={!editable} onInput={(e) => set({ thank_you: { ...def.thank_you, message: e.currentTarget.value } })} />}
                </Field>
              </div>
              <div>
                <h2>Appearance</h2>
                <Field label="Position" error={problems('appearance.position')}>
                  {(p) => (
                    <select {...p} value={def.appearance.position} disabled={!editable} onChange={(e) => set({ appearance: { ...def.appearance, position: e.currentTarget.value } })}>
                      <option value="bottom-right">bottom right</option>
                      <option value="bottom-left">bottom left</option>
                      <option value="center">centre</option>
                    </select>
                  )}
                </Field>
                {(['background', 'text', 'accent'] as const).map((k) => (
                  <ColourField
                    key={k}
                    label={{ background: 'Background colour', text: 'Text colour', accent: 'Accent colour' }[k]}
                    value={def.appearance[k]}
                    error={problems('appearance.' + k)}
                    disabled={!editable}
                    onChange={(v) => set({ appearance: { ...def.appearance, [k]: v } })}
                  />
                ))}
              </div>
            </div>
          </div>
        </div>
        <aside class="builder-side">
          <div class="card survey-preview-card">
            <h2>Preview</h2>
            <SurveyPreview def={def} />
          </div>
        </aside>
        <div class="builder-bottom">
          <TargetingForm t={def.targeting} set={setT} problems={problems} disabled={!editable} segments={segments.data?.segments || []} />
          {canWrite && (
            <div class="actions">
              {editable && (
                <button type="submit" class="btn" disabled={busy}>
                  {survey ? 'Save changes' : 'Save as draft'}
                </button>
              )}
              {(status === 'draft' || status === 'paused') && (
                <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void setStatus('live', true)}>
                  {status === 'draft' ? 'Launch' : 'Save and resume'}
                </button>
              )}
              {status === 'live' && (
                <button type="button" class="btn" disabled={busy} onClick={() => void setStatus('paused', false)}>
                  Pause
                </button>
              )}
              {survey && status !== 'ended' && (
                <button type="button" class="btn btn-danger" disabled={busy} onClick={() => void setStatus('ended', false)}>
                  End
                </button>
              )}
            </div>
          )}
        </div>
      </form>
    </section>
  );
}

// tidy drops what the API must not get: empty options and URL rules, the
// segment when none is chosen, and fields of other trigger types.
function tidy(d: Definition): Definition {
  const t = d.targeting;
  const trig: Targeting['trigger'] = { type: t.trigger.type };
  if (t.trigger.type === 'delay') trig.seconds = t.trigger.seconds;
  if (t.trigger.type === 'event') trig.event = t.trigger.event;
  if (t.trigger.type === 'scroll') trig.percent = t.trigger.percent;
  const freq: Targeting['frequency'] = { once: t.frequency.once, dismiss_days: t.frequency.dismiss_days };
  if (!t.frequency.once) freq.repeat_days = t.frequency.repeat_days;
  const seg = t.segment && (t.segment.id || t.segment.text) ? t.segment : undefined;
  return {
    ...d,
    questions: d.questions.map((q) => (q.options ? { ...q, options: q.options.map((o) => o.trim()).filter(Boolean) } : q)),
    targeting: { ...t, segment: seg, urls: (t.urls || []).filter((u) => u.value.trim() !== ''), trigger: trig, frequency: freq },
  };
}

function num(s: string): number {
  const n = Number(s);
  return s.trim() === '' || !isFinite(n) ? 0 : n;
}

function TargetingForm(props: { t: Targeting; set: (t: Partial<Targeting>) => void; problems: Problems; disabled: boolean; segments: SavedSegment[] }) {
  const events = useTrackEvents(useSite().id);
  const { t, set, problems: err, disabled } = props;
  const segMode = t.segment?.text !== undefined ? 'text' : t.segment?.id ? 'saved' : 'everyone';
  const [mode, setMode] = useState(segMode);
  useEffect(() => setMode(segMode), [segMode]);
  const urls = t.urls || [];
  const devices = t.devices || [];
  return (
    <div class="card">
      <h2>Who sees it</h2>
      <Field label="Segment" error={err('targeting.segment') || err('targeting.segment.text') || err('targeting.segment.id')}>
        {(p) => (
          <select
            {...p}
            value={mode}
            disabled={disabled}
            onChange={(e) => {
              const m = e.currentTarget.value;
              setMode(m);
              set({ segment: m === 'text' ? { text: '' } : m === 'saved' ? { id: props.segments[0]?.id || '' } : undefined });
            }}
          >
            <option value="everyone">Everyone</option>
            <option value="saved">A saved segment</option>
            <option value="text">A segment written here</option>
          </select>
        )}
      </Field>
      {mode === 'saved' && (
        <Field label="Saved segment">
          {(p) => (
            <select {...p} value={t.segment?.id || ''} disabled={disabled} onChange={(e) => set({ segment: { id: e.currentTarget.value } })}>
              {props.segments.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      {mode === 'text' && (
        <Field label="Segment definition" hint={<>As in the segment editor, e.g. <code>did("export", 30d) &gt;= 2 and nps_group() = "detractor"</code>.</>}>
          {(p) => <textarea {...p} class="mono" rows={2} value={t.segment?.text || ''} disabled={disabled} onInput={(e) => set({ segment: { text: e.currentTarget.value } })} />}
        </Field>
      )}
      <h3>Pages</h3>
      {urls.length === 0 && <p class="hint">Every page, unless you add a rule.</p>}
      {urls.map((u, i) => (
        <div class="inline-fields" key={i}>
          <Field label={`Rule ${i + 1}: the URL`} error={err(`targeting.urls[${i}].match`)}>
            {(p) => (
              <select {...p} value={u.match} disabled={disabled} onChange={(e) => set({ urls: urls.map((x, j) => (j === i ? { ...x, match: e.currentTarget.value } : x)) })}>
                <option value="exact">is</option>
                <option value="contains">contains</option>
                <option value="starts_with">starts with</option>
                <option value="regex">matches the regex</option>
              </select>
            )}
          </Field>
          <Field label={`Rule ${i + 1}: value`} error={err(`targeting.urls[${i}].value`) || err(`targeting.urls[${i}]`)}>
            {(p) => <input {...p} value={u.value} disabled={disabled} placeholder="https://app.example.com/settings" onInput={(e) => set({ urls: urls.map((x, j) => (j === i ? { ...x, value: e.currentTarget.value } : x)) })} />}
          </Field>
          {!disabled && (
            <button type="button" class="btn btn-small btn-ghost" onClick={() => set({ urls: urls.filter((_, j) => j !== i) })}>
              Remove rule {i + 1}
            </button>
          )}
        </div>
      ))}
      {!disabled && (
        <button type="button" class="btn btn-small" onClick={() => set({ urls: [...urls, { match: 'starts_with', value: '' }] })}>
          Add a URL rule
        </button>
      )}
      <fieldset class="chips">
        <legend>Devices (none: every device)</legend>
        {['desktop', 'tablet', 'mobile'].map((d) => (
          <label key={d} class="check">
            <input type="checkbox" checked={devices.includes(d)} disabled={disabled} onChange={(e) => set({ devices: e.currentTarget.checked ? [...devices, d] : devices.filter((x) => x !== d) })} />
            {d}
          </label>
        ))}
      </fieldset>
      {err('targeting.devices') && <p class="field-error">{err('targeting.devices')}</p>}
      <h3>When</h3>
      <div class="grid-2">
        <Field label="Trigger" error={err('targeting.trigger.type') || err('targeting.trigger')}>
          {(p) => (
            <select {...p} value={t.trigger.type} disabled={disabled} onChange={(e) => set({ trigger: { ...t.trigger, type: e.currentTarget.value } })}>
              <option value="load">when the page loads</option>
              <option value="delay">after a delay</option>
              <option value="event">on a custom event</option>
              <option value="exit_intent">on exit intent</option>
              <option value="scroll">at a scroll depth</option>
            </select>
          )}
        </Field>
        {t.trigger.type === 'delay' && (
          <Field label="Delay in seconds" error={err('targeting.trigger.seconds')}>
            {(p) => <input {...p} type="number" min={1} max={3600} value={t.trigger.seconds ?? 5} disabled={disabled} onInput={(e) => set({ trigger: { ...t.trigger, seconds: num(e.currentTarget.value) } })} />}
          </Field>
        )}
        {t.trigger.type === 'event' && (
          <Field label="Event name" error={err('targeting.trigger.event')}>
            {(p) => (
              <>
                <input
                  {...p}
                  list="trigger-events"
                  autoComplete="off"
                  value={t.trigger.event || ''}
                  placeholder={events.data?.[0]?.name || 'export_done'}
                  disabled={disabled}
                  onInput={(e) => set({ trigger: { ...t.trigger, event: e.currentTarget.value } })}
                />
                <EventNames id="trigger-events" events={events.data} />
              </>
            )}
          </Field>
        )}
        {t.trigger.type === 'scroll' && (
          <Field label="Scroll depth in %" error={err('targeting.trigger.percent')}>
            {(p) => <input {...p} type="number" min={1} max={100} value={t.trigger.percent ?? 50} disabled={disabled} onInput={(e) => set({ trigger: { ...t.trigger, percent: num(e.currentTarget.value) } })} />}
          </Field>
        )}
      </div>
      <h3>How often</h3>
      <div class="grid-2">
        <label class="check">
          <input type="checkbox" checked={t.frequency.once} disabled={disabled} onChange={(e) => set({ frequency: { ...t.frequency, once: e.currentTarget.checked, repeat_days: e.currentTarget.checked ? undefined : t.frequency.repeat_days || 90 } })} />
          Once per user (never again after completing it)
        </label>
        {!t.frequency.once && (
          <Field label="Ask again after days" error={err('targeting.frequency.repeat_days')}>
            {(p) => <input {...p} type="number" min={1} max={3650} value={t.frequency.repeat_days ?? 90} disabled={disabled} onInput={(e) => set({ frequency: { ...t.frequency, repeat_days: num(e.currentTarget.value) } })} />}
          </Field>
        )}
        <Field label="After a dismissal, wait days (0: never again)" error={err('targeting.frequency.dismiss_days')}>
          {(p) => <input {...p} type="number" min={0} max={3650} value={t.frequency.dismiss_days} disabled={disabled} onInput={(e) => set({ frequency: { ...t.frequency, dismiss_days: num(e.currentTarget.value) } })} />}
        </Field>
        <Field label="Sample of visitors in %" error={err('targeting.sample_percent')}>
          {(p) => <input {...p} type="number" min={0} max={100} step="any" value={t.sample_percent} disabled={disabled} onInput={(e) => set({ sample_percent: num(e.currentTarget.value) })} />}
        </Field>
        <Field label="Stop after completed responses (0: no quota)" error={err('targeting.quota')}>
          {(p) => <input {...p} type="number" min={0} value={t.quota} disabled={disabled} onInput={(e) => set({ quota: num(e.currentTarget.value) })} />}
        </Field>
      </div>
    </div>
  );
}
