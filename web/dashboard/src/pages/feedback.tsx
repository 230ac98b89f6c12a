// Feedback from the tab: the average rating over time and the list
// filtered by segment, page and rating, each with the user's profile and
// recordings; and, on a tab of its own at the top, the feedback tab's
// settings (admins change them). #settings in the address opens them.

import { useState } from 'preact/hooks';
import { get, put, query, sitePath } from '../api';
import { Bars } from '../components/bars';
import { ColourField } from '../components/colour';
import { LineChart } from '../components/chart';
import { Empty, LoadError, Loading, Notice } from '../components/feedback';
import { Field, fieldError, FormError, useSubmit } from '../components/form';
import { Ago } from '../components/values';
import { formatCount } from '../format';
import { type Loaded, useDebounced, useLoad, useTitle } from '../hooks';
import { allows, siteAccess, useSession, useSite } from '../session';
import type { FeedbackItem, FeedbackSettings, FeedbackSummary } from '../surveys/types';
import { Respondent } from '../surveys/respondent';
import type { SavedSegment } from '../types';

type Tab = 'feedback' | 'settings';

export function FeedbackPage() {
  const site = useSite();
  const { me } = useSession();
  useTitle('Feedback — ' + site.name);
  const admin = allows(siteAccess(site, me.account.role), 'admin');
  const [tab, setTab] = useState<Tab>(location.hash === '#settings' ? 'settings' : 'feedback');
  const settings = useLoad((signal) => get<FeedbackSettings>(sitePath(site.id, '/feedback-settings'), { signal }), [site.id]);
  const show = (t: Tab) => {
    setTab(t);
    history.replaceState(history.state, '', location.pathname + location.search + (t === 'settings' ? '#settings' : ''));
  };
  const on = settings.data?.enabled;
  return (
    <section>
      <div class="page-head">
        <h1>Feedback</h1>
      </div>
      <p class="lead">What visitors say about a page through the feedback tab: a rating from 1 to 5, a comment, the page and the element they point at.</p>
      <div class="tabs" role="tablist" aria-label="Feedback">
        {(['feedback', 'settings'] as Tab[]).map((t) => (
          <button key={t} type="button" role="tab" id={'feedback-tab-' + t} aria-selected={tab === t} aria-controls="feedback-panel" class={'tab' + (tab === t ? ' tab-on' : '')} onClick={() => show(t)}>
            {t === 'feedback' ? 'Feedback' : 'Tab settings'}
            {t === 'settings' && settings.data && <span class={'badge ' + (on ? 'survey-live' : 'survey-draft')}>{on ? 'on' : 'off'}</span>}
          </button>
        ))}
      </div>
      <div id="feedback-panel" role="tabpanel" aria-labelledby={'feedback-tab-' + tab}>
        {tab === 'feedback' ? (
          <>
            {settings.data && !on && (
              <p class="alert alert-warn">
                The feedback tab is off: visitors do not see it.{' '}
                <button type="button" class="link warn" onClick={() => show('settings')}>
                  {admin ? 'Turn it on in the tab settings' : 'See the tab settings'}
                </button>
              </p>
            )}
            <Summary />
            <FeedbackList />
          </>
        ) : (
          <SettingsForm admin={admin} loaded={settings} />
        )}
      </div>
    </section>
  );
}

function Summary() {
  const site = useSite();
  const sum = useLoad((signal) => get<FeedbackSummary>(sitePath(site.id, '/feedback/summary?interval=day'), { signal }), [site.id]);
  if (sum.error) return <LoadError error={sum.error} retry={sum.reload} />;
  if (!sum.data) return <Loading />;
  const d = sum.data;
  return (
    <div class="card">
      <h2>Average rating</h2>
      <div class="grid-2">
        <div>
          <p class="nps-big" data-average>
            {d.average === null ? '—' : d.average.toFixed(2)}
          </p>
          <p class="hint">of {formatCount(d.count)} ratings</p>
          <Bars caption="Ratings" bars={['5', '4', '3', '2', '1'].map((k) => ({ label: k + ' ★', value: d.by_rating[k] || 0 }))} compact />
        </div>
        <div>{d.points.length > 0 ? <LineChart label="Average rating" points={d.points.map((p) => ({ date: p.start.slice(0, 10), value: p.average }))} /> : <p class="muted">No ratings yet.</p>}</div>
      </div>
    </div>
  );
}

function FeedbackList() {
  const site = useSite();
  const [segment, setSegment] = useState('');
  const [page, setPage] = useState('');
  const [rating, setRating] = useState('');
  const [extra, setExtra] = useState<FeedbackItem[]>([]);
  const [cursor, setCursor] = useState('');
  const pageQ = useDebounced(page, 300);
  const segments = useLoad((signal) => get<{ segments: SavedSegment[] }>(sitePath(site.id, '/segments'), { signal }), [site.id]);
  const path = sitePath(site.id, '/feedback');
  const list = useLoad(async (signal) => {
    const r = await get<{ feedback: FeedbackItem[]; next_cursor: string }>(path + query({ segment, page: pageQ, rating, limit: 50 }), { signal });
    setExtra([]);
    setCursor(r.next_cursor || '');
    return r.feedback;
  }, [path, segment, pageQ, rating]);
  const more = async () => {
    const r = await get<{ feedback: FeedbackItem[]; next_cursor: string }>(path + query({ segment, page: pageQ, rating, limit: 50, cursor }));
    setExtra([...extra, ...r.feedback]);
    setCursor(r.next_cursor || '');
  };
  const rows = (list.data || []).concat(extra);
  return (
    <div class="card">
      <h2>Feedback</h2>
      <div class="toolbar">
        <Field label="Segment">
          {(p) => (
            <select {...p} value={segment} onChange={(e) => setSegment(e.currentTarget.value)}>
              <option value="">Everyone</option>
              {(segments.data?.segments || []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Page contains">{(p) => <input {...p} value={page} placeholder="/pricing" onInput={(e) => setPage(e.currentTarget.value)} />}</Field>
        <Field label="Rating">
          {(p) => (
            <select {...p} value={rating} onChange={(e) => setRating(e.currentTarget.value)}>
              <option value="">Any</option>
              {[1, 2, 3, 4, 5].map((n) => (
                <option key={n} value={String(n)}>
                  {n}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      {list.error ? (
        <LoadError error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <Empty title="No feedback matches" />
      ) : (
        <div class="table-wrap">
          <table class="feedback-list">
            <thead>
              <tr>
                <th scope="col">Rating</th>
                <th scope="col">Comment</th>
                <th scope="col">Page</th>
                <th scope="col">Who</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((f) => {
                let where = f.url;
                try {
                  where = new URL(f.url).pathname;
                } catch {
                  // not a URL: shown as sent
                }
                return (
                  <tr key={f.id} data-feedback={f.id}>
                    <td class="num" aria-label={f.rating + ' of 5'}>
                      {f.rating} ★
                    </td>
                    <td class="answer-text">{f.comment || <span class="muted">no comment</span>}</td>
                    <td>
                      <span class="mono" title={f.url}>
                        {where}
                      </span>
                      {f.selector && <div class="sub mono">{f.selector}</div>}
                    </td>
                    <Respondent site={site.id} userID={f.user_id} anonymousID={f.anonymous_id} recordingID={f.recording_id} hasRecordings={f.has_recordings} attributes={f.attributes} />
                    <td>
                      <Ago at={f.created_at} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button type="button" class="btn btn-small" onClick={() => void more()}>
          More feedback
        </button>
      )}
    </div>
  );
}

function SettingsForm(props: { admin: boolean; loaded: Loaded<FeedbackSettings> }) {
  const site = useSite();
  const path = sitePath(site.id, '/feedback-settings');
  const loaded = props.loaded;
  const [draft, setDraft] = useState<FeedbackSettings | null>(null);
  const [saved, setSaved] = useState(false);
  const s = draft || loaded.data;
  const submit = useSubmit(async () => {
    const out = await put<FeedbackSettings>(path, s);
    loaded.set(out);
    setDraft(null);
    setSaved(true);
  });
  if (loaded.error) return <LoadError error={loaded.error} retry={loaded.reload} />;
  if (!s) return <Loading />;
  const set = (f: Partial<FeedbackSettings>) => {
    setSaved(false);
    setDraft({ ...s, ...f });
  };
  const dis = !props.admin;
  const fields = ['enabled', 'position', 'background', 'text', 'accent', 'prompt'];
  return (
    <form class="card" onSubmit={submit.onSubmit}>
      <h2>Feedback tab</h2>
      {!props.admin && <p class="hint">Only admins change these settings.</p>}
      <FormError error={submit.error} fields={fields} />
      {saved && <Notice>Saved. Visitors see the change within a minute.</Notice>}
      <label class="check">
        <input type="checkbox" checked={s.enabled} disabled={dis} onChange={(e) => set({ enabled: e.currentTarget.checked })} />
        Show the feedback tab on the site's pages
      </label>
      <div class="grid-2">
        <Field label="Position" error={fieldError(submit.error, 'position')}>
          {(p) => (
            <select {...p} value={s.position} disabled={dis} onChange={(e) => set({ position: e.currentTarget.value })}>
              <option value="right">right edge</option>
              <option value="left">left edge</option>
              <option value="bottom-right">bottom right</option>
              <option value="bottom-left">bottom left</option>
            </select>
          )}
        </Field>
        <Field label="Question" error={fieldError(submit.error, 'prompt')}>
          {(p) => <input {...p} value={s.prompt} maxLength={200} disabled={dis} onInput={(e) => set({ prompt: e.currentTarget.value })} />}
        </Field>
        {(['background', 'text', 'accent'] as const).map((k) => (
          <ColourField key={k} label={{ background: 'Background colour', text: 'Text colour', accent: 'Accent colour' }[k]} value={s[k] || ''} error={fieldError(submit.error, k)} disabled={dis} onChange={(v) => set({ [k]: v })} />
        ))}
      </div>
      {props.admin && (
        <div class="actions">
          <button type="submit" class="btn btn-primary" disabled={submit.busy || !draft}>
            Save settings
          </button>
        </div>
      )}
    </form>
  );
}
