// Integrations: where alerts go (Slack, signed webhooks), the rules that
// send them, the delivery log, and test-send. Admins change them; anyone
// who sees the site reads them.

import { useState } from 'preact/hooks';
import { del, get, post, put, query, sitePath } from '../api';
import { CopyBox } from '../components/copy';
import { Confirm, Dialog } from '../components/dialog';
import { Empty, LoadError, Loading } from '../components/feedback';
import { Field, fieldError, FormError, messageOf, useSubmit } from '../components/form';
import { formatTime } from '../format';
import { useInterval, useLoad, useTitle } from '../hooks';
import { allows, siteAccess, useSession, useSite } from '../session';
import type { SavedSegment } from '../types';
import type { Survey } from '../surveys/types';

interface Destination {
  id: string;
  name: string;
  kind: 'webhook' | 'slack';
  url: string;
  enabled: boolean;
  failures: number;
  disabled?: { at: string; reason: string };
  rotating: boolean;
  created_at: string;
}

interface Rule {
  id: string;
  name: string;
  trigger: Trigger;
  segment_id?: string;
  destination_id: string;
  hourly_limit: number;
  enabled: boolean;
  survey?: { survey_id?: string; nps?: string; question_id?: string; answer?: string };
  max_rating?: number;
}

interface Attempt {
  message_id: string;
  destination_id: string;
  attempt: number;
  at: string;
  status: number;
  error?: string;
  response: string;
  latency_ms: number;
  ok: boolean;
}

type Trigger = 'recording.new' | 'segment.entered' | 'survey.response' | 'feedback.new';

const triggers: [Trigger, string][] = [
  ['recording.new', 'New recording (of a segment)'],
  ['segment.entered', 'A user enters a segment'],
  ['survey.response', 'A survey response matches'],
  ['feedback.new', 'Feedback rated at or below'],
];

const triggerLabel = (t: string) => triggers.find(([k]) => k === t)?.[1] ?? t;

export function IntegrationsPage() {
  const site = useSite();
  const { me } = useSession();
  useTitle('Integrations — ' + site.name);
  const admin = allows(siteAccess(site, me.account.role), 'admin');
  const dests = useLoad((signal) => get<{ destinations: Destination[] }>(sitePath(site.id, '/alerts/destinations'), { signal }), [site.id]);
  const rules = useLoad((signal) => get<{ rules: Rule[] }>(sitePath(site.id, '/alerts/rules'), { signal }), [site.id]);
  const log = useLoad((signal) => get<{ deliveries: Attempt[] }>(sitePath(site.id, '/alerts/deliveries' + query({ limit: 50 })), { signal }), [site.id]);
  const segments = useLoad((signal) => get<{ segments: SavedSegment[] }>(sitePath(site.id, '/segments'), { signal }), [site.id]);
  const [adding, setAdding] = useState<'destination' | 'rule' | null>(null);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [tested, setTested] = useState<Record<string, Attempt | string>>({});
  const [deleting, setDeleting] = useState<{ what: 'destination' | 'rule'; id: string; name: string } | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const reloadAll = () => {
    dests.reload();
    rules.reload();
    log.reload();
  };
  // Deliveries go on in the background: the log and the destinations'
  // state follow them.
  useInterval(() => {
    dests.reload();
    log.reload();
  }, 5000);
  const act = async (fn: () => Promise<void>) => {
    setActionError(null);
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  };
  const test = (d: Destination) =>
    act(async () => {
      setTested({ ...tested, [d.id]: 'sending' });
      try {
        const a = await post<Attempt>(sitePath(site.id, '/alerts/destinations/' + encodeURIComponent(d.id) + '/test'));
        setTested((t) => ({ ...t, [d.id]: a }));
      } catch (e) {
        setTested((t) => ({ ...t, [d.id]: messageOf(e) }));
      }
      log.reload();
      dests.reload();
    });
  const enable = (d: Destination) =>
    act(async () => {
      await post(sitePath(site.id, '/alerts/destinations/' + encodeURIComponent(d.id) + '/enable'));
      reloadAll();
    });
  const rotate = (d: Destination) =>
    act(async () => {
      const r = await post<{ secret: string }>(sitePath(site.id, '/alerts/destinations/' + encodeURIComponent(d.id) + '/rotate-secret'));
      setSecret({ name: d.name, secret: r.secret });
      dests.reload();
    });
  const toggle = (r: Rule) =>
    act(async () => {
      await put(sitePath(site.id, '/alerts/rules/' + encodeURIComponent(r.id)), { ...r, enabled: !r.enabled });
      rules.reload();
    });
  const remove = () =>
    act(async () => {
      if (!deleting) return;
      const path = deleting.what === 'destination' ? '/alerts/destinations/' : '/alerts/rules/';
      await del(sitePath(site.id, path + encodeURIComponent(deleting.id)));
      setDeleting(null);
      reloadAll();
    });

  const destName = (id: string) => dests.data?.destinations.find((d) => d.id === id)?.name ?? id;
  const segName = (id?: string) => (id ? (segments.data?.segments.find((s) => s.id === id)?.name ?? id) : 'anyone');
  const disabled = dests.data?.destinations.filter((d) => !d.enabled) ?? [];

  return (
    <section class="integrations">
      <div class="page-head">
        <h1>Integrations</h1>
        {admin && (
          <div class="actions">
            <button type="button" class="btn" onClick={() => setAdding('destination')}>
              New destination
            </button>
            <button type="button" class="btn btn-primary" onClick={() => setAdding('rule')} disabled={!dests.data?.destinations.length}>
              New alert rule
            </button>
          </div>
        )}
      </div>
      <p class="lead">
        Send alerts to Slack or to your own endpoint when a segment's user is recorded, a user enters a segment, a survey response or
        feedback comes in. Webhooks are signed per Standard Webhooks; see <a href="/docs/alerts.md">the alerts guide</a> and{' '}
        <a href="/api/v1/docs">the API reference</a>.
      </p>
      {disabled.map((d) => (
        <div class="alert alert-error" role="alert" key={d.id} data-disabled={d.id}>
          <strong>{d.name} is disabled</strong> since {formatTime(d.disabled?.at)}: {d.disabled?.reason}. Alerts for it wait in the queue.{' '}
          {admin && (
            <button type="button" class="btn btn-small" onClick={() => enable(d)} disabled={busy}>
              Re-enable {d.name}
            </button>
          )}
        </div>
      ))}
      {actionError ? <p class="alert alert-error">{messageOf(actionError)}</p> : null}

      <h2>Destinations</h2>
      {dests.error ? (
        <LoadError error={dests.error} retry={dests.reload} />
      ) : !dests.data ? (
        <Loading />
      ) : dests.data.destinations.length === 0 ? (
        <Empty title="No destinations yet">
          <p>Add a Slack incoming-webhook URL or an https endpoint of yours.</p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="destinations">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Address</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {dests.data.destinations.map((d) => {
                const t = tested[d.id];
                return (
                  <tr key={d.id} data-id={d.id}>
                    <td>
                      {d.name}
                      <div class="sub mono">{d.id}</div>
                    </td>
                    <td>{d.kind === 'slack' ? 'Slack' : 'Webhook'}</td>
                    <td class="mono">{d.url}</td>
                    <td>
                      {d.enabled ? (d.failures > 0 ? `${d.failures} failures in a row` : 'OK') : <span class="bad">disabled</span>}
                      {d.rotating && <div class="sub">old secret still signing</div>}
                      {t && (
                        <div class="sub test-result" role="status">
                          {typeof t === 'string'
                            ? t
                            : t.ok
                              ? `Test delivered: ${t.status} in ${Math.round(t.latency_ms)} ms`
                              : `Test failed: ${t.error || t.status}`}
                        </div>
                      )}
                    </td>
                    <td class="row-actions">
                      {admin && (
                        <>
                          <button type="button" class="btn btn-small" onClick={() => test(d)} disabled={busy} aria-label={'Test ' + d.name}>
                            Test
                          </button>
                          {d.kind === 'webhook' && (
                            <button type="button" class="btn btn-small" onClick={() => rotate(d)} disabled={busy}>
                              Rotate secret
                            </button>
                          )}
                          <button
                            type="button"
                            class="btn btn-small btn-danger"
                            onClick={() => setDeleting({ what: 'destination', id: d.id, name: d.name })}
                          >
                            Delete
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <h2>Alert rules</h2>
      {rules.error ? (
        <LoadError error={rules.error} retry={rules.reload} />
      ) : !rules.data ? (
        <Loading />
      ) : rules.data.rules.length === 0 ? (
        <Empty title="No alert rules yet">
          <p>A rule says what to watch (a trigger, a segment), where to send it, and how many messages an hour at most.</p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="rules">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Trigger</th>
                <th scope="col">Segment</th>
                <th scope="col">Destination</th>
                <th scope="col">Limit</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rules.data.rules.map((r) => (
                <tr key={r.id} class={r.enabled ? '' : 'muted'}>
                  <td>{r.name}</td>
                  <td>
                    {triggerLabel(r.trigger)}
                    {r.trigger === 'feedback.new' && ` ${r.max_rating}`}
                    {r.survey?.nps && <div class="sub">NPS {r.survey.nps}</div>}
                    {r.survey?.question_id && <div class="sub">{`${r.survey.question_id} = ${r.survey.answer}`}</div>}
                  </td>
                  <td>{segName(r.segment_id)}</td>
                  <td>{destName(r.destination_id)}</td>
                  <td>{r.hourly_limit}/hour, then a digest</td>
                  <td class="row-actions">
                    {admin && (
                      <>
                        <button type="button" class="btn btn-small" onClick={() => toggle(r)} disabled={busy}>
                          {r.enabled ? 'Pause' : 'Resume'}
                        </button>
                        <button type="button" class="btn btn-small btn-danger" onClick={() => setDeleting({ what: 'rule', id: r.id, name: r.name })}>
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <div class="page-head">
        <h2>Delivery log</h2>
        <button type="button" class="btn btn-small" onClick={reloadAll}>
          Refresh
        </button>
      </div>
      {log.error ? (
        <LoadError error={log.error} retry={log.reload} />
      ) : !log.data ? (
        <Loading />
      ) : log.data.deliveries.length === 0 ? (
        <Empty title="Nothing sent yet" />
      ) : (
        <div class="table-wrap">
          <table class="delivery-log">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Destination</th>
                <th scope="col">Message</th>
                <th scope="col">Status</th>
                <th scope="col">Latency</th>
                <th scope="col">Response</th>
              </tr>
            </thead>
            <tbody>
              {log.data.deliveries.map((a) => (
                <tr key={a.message_id + '-' + a.attempt} class={a.ok ? 'ok' : 'failed'}>
                  <td>{formatTime(a.at)}</td>
                  <td>{destName(a.destination_id)}</td>
                  <td class="mono">
                    {a.message_id}
                    <div class="sub">attempt {a.attempt}</div>
                  </td>
                  <td>{a.ok ? <span class="good">{a.status}</span> : <span class="bad">{a.status || 'no answer'}</span>}</td>
                  <td>{Math.round(a.latency_ms)} ms</td>
                  <td class="mono snippet">{[a.error, a.response].filter(Boolean).join(' · ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {adding === 'destination' && (
        <NewDestination
          onClose={() => setAdding(null)}
          onCreated={(name, s) => {
            setAdding(null);
            if (s) setSecret({ name, secret: s });
            dests.reload();
          }}
        />
      )}
      {adding === 'rule' && dests.data && (
        <NewRule
          destinations={dests.data.destinations}
          segments={segments.data?.segments ?? []}
          onClose={() => setAdding(null)}
          onCreated={() => {
            setAdding(null);
            rules.reload();
          }}
        />
      )}
      {secret && (
        <Dialog title="Signing secret" onClose={() => setSecret(null)}>
          <p class="alert alert-warn">This is the only time the secret of {secret.name} is shown. Copy it now.</p>
          <CopyBox label="Signing secret (whsec_…)" text={secret.secret} />
          <p class="hint">
            Verify each request's <code>webhook-signature</code> with it (any Standard Webhooks library does). After a rotation the old
            secret keeps signing beside the new one for 24 hours.
          </p>
          <div class="actions">
            <button type="button" class="btn btn-primary" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        </Dialog>
      )}
      {deleting && (
        <Confirm title={`Delete ${deleting.name}?`} confirm="Delete" danger busy={busy} onConfirm={remove} onClose={() => setDeleting(null)}>
          <p>{deleting.what === 'rule' ? 'The rule stops sending alerts.' : 'Messages waiting for this destination are dropped.'}</p>
          {actionError ? <p class="alert alert-error">{messageOf(actionError)}</p> : null}
        </Confirm>
      )}
    </section>
  );
}

function NewDestination(props: { onClose: () => void; onCreated: (name: string, secret?: string) => void }) {
  const site = useSite();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'webhook' | 'slack'>('slack');
  const [url, setURL] = useState('');
  const sub = useSubmit(async () => {
    const d = await post<Destination & { secret?: string }>(sitePath(site.id, '/alerts/destinations'), { name, kind, url });
    props.onCreated(d.name, d.secret);
  });
  return (
    <Dialog title="New destination" onClose={props.onClose}>
      <form onSubmit={sub.onSubmit} noValidate>
        <Field label="Name" hint="Like “#product channel”." error={fieldError(sub.error, 'name')}>
          {(p) => <input {...p} value={name} onInput={(e) => setName(e.currentTarget.value)} autoFocus />}
        </Field>
        <Field label="Kind" error={fieldError(sub.error, 'kind')}>
          {(p) => (
            <select {...p} value={kind} onChange={(e) => setKind(e.currentTarget.value as 'webhook' | 'slack')}>
              <option value="slack">Slack incoming webhook</option>
              <option value="webhook">Webhook (signed, Standard Webhooks)</option>
            </select>
          )}
        </Field>
        <Field
          label="URL"
          hint={kind === 'slack' ? 'https://hooks.slack.com/services/…' : 'An https address of yours; the secret is shown once.'}
          error={fieldError(sub.error, 'url')}
        >
          {(p) => <input {...p} type="url" value={url} onInput={(e) => setURL(e.currentTarget.value)} />}
        </Field>
        <FormError error={sub.error} fields={['name', 'kind', 'url']} />
        <div class="actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={sub.busy}>
            Add destination
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function NewRule(props: { destinations: Destination[]; segments: SavedSegment[]; onClose: () => void; onCreated: () => void }) {
  const site = useSite();
  const [name, setName] = useState('');
  const [trigger, setTrigger] = useState<Trigger>('recording.new');
  const [segment, setSegment] = useState('');
  const [destination, setDestination] = useState(props.destinations[0]?.id ?? '');
  const [limit, setLimit] = useState('20');
  const [maxRating, setMaxRating] = useState('2');
  const [surveyID, setSurveyID] = useState('');
  const [nps, setNPS] = useState('');
  const [question, setQuestion] = useState('');
  const [answer, setAnswer] = useState('');
  const surveys = useLoad((signal) => get<{ surveys: Survey[] }>(sitePath(site.id, '/surveys'), { signal }), [site.id]);
  const sub = useSubmit(async () => {
    const body: Partial<Rule> = {
      name,
      trigger,
      segment_id: segment || undefined,
      destination_id: destination,
      hourly_limit: Number(limit) || 0,
      enabled: true,
    };
    if (trigger === 'feedback.new') body.max_rating = Number(maxRating);
    if (trigger === 'survey.response')
      body.survey = { survey_id: surveyID || undefined, nps: nps || undefined, question_id: question || undefined, answer: answer || undefined };
    await post(sitePath(site.id, '/alerts/rules'), body);
    props.onCreated();
  });
  return (
    <Dialog title="New alert rule" onClose={props.onClose} wide>
      <form onSubmit={sub.onSubmit} noValidate>
        <Field label="Name" error={fieldError(sub.error, 'name')}>
          {(p) => <input {...p} value={name} onInput={(e) => setName(e.currentTarget.value)} autoFocus />}
        </Field>
        <Field label="Trigger" error={fieldError(sub.error, 'trigger')}>
          {(p) => (
            <select {...p} value={trigger} onChange={(e) => setTrigger(e.currentTarget.value as Trigger)}>
              {triggers.map(([k, l]) => (
                <option key={k} value={k}>
                  {l}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label="Segment"
          hint={trigger === 'segment.entered' ? 'Required: whose entering to announce.' : 'Only users in this segment (optional).'}
          error={fieldError(sub.error, 'segment_id')}
        >
          {(p) => (
            <select {...p} value={segment} onChange={(e) => setSegment(e.currentTarget.value)}>
              <option value="">{trigger === 'segment.entered' ? 'Choose a segment' : 'Anyone'}</option>
              {props.segments.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        {trigger === 'feedback.new' && (
          <Field label="Rating at or below" error={fieldError(sub.error, 'max_rating')}>
            {(p) => (
              <select {...p} value={maxRating} onChange={(e) => setMaxRating(e.currentTarget.value)}>
                {[1, 2, 3, 4, 5].map((n) => (
                  <option key={n} value={String(n)}>
                    {n}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        {trigger === 'survey.response' && (
          <>
            <Field label="Survey" error={fieldError(sub.error, 'survey.survey_id')}>
              {(p) => (
                <select {...p} value={surveyID} onChange={(e) => setSurveyID(e.currentTarget.value)}>
                  <option value="">Any survey</option>
                  {(surveys.data?.surveys ?? []).map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.definition.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="NPS group" error={fieldError(sub.error, 'survey.nps')}>
              {(p) => (
                <select {...p} value={nps} onChange={(e) => setNPS(e.currentTarget.value)}>
                  <option value="">Any</option>
                  <option value="detractor">Detractors (0–6)</option>
                  <option value="passive">Passives (7–8)</option>
                  <option value="promoter">Promoters (9–10)</option>
                </select>
              )}
            </Field>
            <Field label="Question ID" hint="With an answer: only responses that gave it." error={fieldError(sub.error, 'survey.answer')}>
              {(p) => <input {...p} value={question} onInput={(e) => setQuestion(e.currentTarget.value)} />}
            </Field>
            <Field label="Answer">{(p) => <input {...p} value={answer} onInput={(e) => setAnswer(e.currentTarget.value)} />}</Field>
          </>
        )}
        <Field label="Destination" error={fieldError(sub.error, 'destination_id')}>
          {(p) => (
            <select {...p} value={destination} onChange={(e) => setDestination(e.currentTarget.value)}>
              {props.destinations.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Messages an hour at most" hint="Beyond it, one digest after the hour lists the rest." error={fieldError(sub.error, 'hourly_limit')}>
          {(p) => <input {...p} type="number" min="1" value={limit} onInput={(e) => setLimit(e.currentTarget.value)} />}
        </Field>
        <FormError error={sub.error} fields={['name', 'trigger', 'segment_id', 'destination_id', 'hourly_limit', 'max_rating']} />
        <div class="actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={sub.busy}>
            Create rule
          </button>
        </div>
      </form>
    </Dialog>
  );
}
