// One site's settings: name, allowed origins and Do-Not-Track, session
// recording, the write key (rotate), the install snippet, and the
// installation check, which polls while the page is open.

import { useState } from 'preact/hooks';
import { ApiError, get, patch, post, sitePath } from '../api';
import { useCatalog, userKeys } from '../catalog';
import { CopyBox } from '../components/copy';
import { Confirm } from '../components/dialog';
import { LoadError, Loading, Notice } from '../components/feedback';
import { Field, fieldError, FormError, messageOf, useSubmit } from '../components/form';
import { ago, formatCount, formatTime } from '../format';
import { useInterval, useLoad, useTitle } from '../hooks';
import { allows, siteAccess, useSession, useSite } from '../session';
import { RecordingSettingsCard } from '../recordings/settings';
import { snippet } from '../snippet';
import type { InstallStatus } from '../types';
import { parseOrigins, WriteKeyDialog } from './sites';
import { RetentionCard } from './site-retention';
import { DeleteSiteCard } from './site-delete';
import { TimeZoneCard } from './site-zone';

export function SiteSettingsPage() {
  const site = useSite();
  const { me } = useSession();
  useTitle(site.name + ' — install & settings');
  const admin = allows(siteAccess(site, me.account.role), 'admin');
  return (
    <section>
      <div class="page-head">
        <h1>Install &amp; settings</h1>
      </div>
      <InstallCheck />
      <Snippet admin={admin} />
      {admin ? <SiteForm /> : <ReadOnlySite />}
      <TimeZoneCard admin={admin} />
      <RecordingSettingsCard admin={admin} />
      <RetentionCard admin={admin} />
      {admin && <RotateKey />}
      {me.account.role === 'owner' && <DeleteSiteCard />}
    </section>
  );
}

// Snippet shows the install snippet. The write key is in the source of
// every page that has it, so it is no secret: admins see it in place.
function Snippet(props: { admin: boolean }) {
  const site = useSite();
  const key = useLoad(
    (signal) => (props.admin ? get<{ write_key: string }>(sitePath(site.id, '/write-key'), { signal }) : Promise.resolve({ write_key: '' })),
    [site.id, props.admin],
  );
  const writeKey = key.data?.write_key || '';
  return (
    <div class="card">
      <h2>Install the tracker</h2>
      {writeKey ? (
        <p>
          Paste the snippet into the <code>&lt;head&gt;</code> of every page. It holds the site's write key, which any visitor
          can read in the page: it only lets pages on the allowed origins send data.
        </p>
      ) : (
        <p>
          Paste the snippet into the <code>&lt;head&gt;</code> of every page, with the site's write key in place of <code>wk_…</code>.{' '}
          {props.admin
            ? 'This site was made before Sightline kept write keys: rotate the key below to see the snippet with it.'
            : 'An admin of the site can see the key.'}
        </p>
      )}
      {key.error ? <LoadError error={key.error} retry={key.reload} /> : null}
      <CopyBox label="Snippet" text={snippet(location.origin, writeKey || 'wk_…', !!site.respect_dnt)} multiline />
      <p class="hint">
        Then name your users and their attributes: <code>sightline('identify', 'u_123', {'{'}plan: 'pro', ltv: 420{'}'})</code>.
        See <code>docs/tracker.md</code> for every command.
      </p>
    </div>
  );
}

function ReadOnlySite() {
  const site = useSite();
  return (
    <div class="card">
      <h2>Site</h2>
      <dl class="facts">
        <dt>Name</dt>
        <dd>{site.name}</dd>
        <dt>ID</dt>
        <dd class="mono">{site.id}</dd>
        <dt>Allowed origins</dt>
        <dd>{site.origins.join(', ') || '—'}</dd>
        <dt>Honours Do-Not-Track</dt>
        <dd>{site.respect_dnt ? 'yes' : 'no'}</dd>
      </dl>
    </div>
  );
}

function InstallCheck() {
  const site = useSite();
  const st = useLoad((signal) => get<InstallStatus>(sitePath(site.id, '/install'), { signal }), [site.id]);
  useInterval(st.reload, 5000);
  let body;
  if (st.error && !st.data) body = <LoadError error={st.error} retry={st.reload} />;
  else if (!st.data) body = <Loading label="Checking…" />;
  else if (!st.data.last_event_at)
    body = (
      <p class="status status-waiting">
        <span class="dot" aria-hidden="true" /> No events yet. Waiting for the first one — this check repeats every 5 seconds.
      </p>
    );
  else {
    const d = st.data;
    const recent = Date.now() - new Date(d.last_event_at!).getTime() < 24 * 3600 * 1000;
    body = (
      <>
        <p class={'status ' + (recent ? 'status-live' : 'status-stale')}>
          <span class="dot" aria-hidden="true" />
          {recent ? 'Receiving events.' : 'No event in the last 24 hours.'}
        </p>
        <dl class="facts">
          <dt>Last event</dt>
          <dd title={formatTime(d.last_event_at)}>
            {ago(d.last_event_at)} {d.last_source && <>from the {d.last_source === 'tracker' ? 'browser tracker' : 'server API'}</>}
          </dd>
          <dt>On page</dt>
          <dd class="break">{d.last_page_url || '—'}</dd>
          <dt>Events in 24 h</dt>
          <dd>{formatCount(d.events_24h)}</dd>
        </dl>
      </>
    );
  }
  return (
    <div class="card" aria-live="polite">
      <h2>Installation check</h2>
      {body}
    </div>
  );
}

function SiteForm() {
  const site = useSite();
  const { refresh } = useSession();
  const [name, setName] = useState(site.name);
  const [origins, setOrigins] = useState(site.origins.join('\n'));
  const [dnt, setDNT] = useState(!!site.respect_dnt);
  const [keys, setKeys] = useState((site.key_attributes || []).join(', '));
  const cat = useCatalog(site.id);
  const [saved, setSaved] = useState(false);
  const sub = useSubmit(async () => {
    setSaved(false);
    const keyAttributes = keys
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k);
    try {
      await patch(sitePath(site.id), { name, origins: parseOrigins(origins), respect_dnt: dnt, key_attributes: keyAttributes });
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405) && e.code !== 'site_not_found')
        throw new ApiError(e.status, e.code, 'This server cannot change sites yet (it has no PATCH /api/v1/sites/{site}).');
      throw e;
    }
    await refresh();
    setSaved(true);
  });
  return (
    <div class="card">
      <h2>Site</h2>
      <form onSubmit={sub.onSubmit} noValidate>
        <Field label="Name" error={fieldError(sub.error, 'name')}>
          {(p) => <input {...p} value={name} onInput={(e) => setName(e.currentTarget.value)} required />}
        </Field>
        <Field
          label="Allowed origins"
          hint="One a line, like https://app.example.com. Browser batches from other origins are refused."
          error={fieldError(sub.error, 'origins')}
        >
          {(p) => <textarea {...p} rows={3} class="mono" value={origins} onInput={(e) => setOrigins(e.currentTarget.value)} />}
        </Field>
        <div class="check">
          <input id="respect-dnt" type="checkbox" checked={dnt} onChange={(e) => setDNT(e.currentTarget.checked)} />
          <label for="respect-dnt">Honour Do-Not-Track and Global Privacy Control (visitors who send them are not tracked)</label>
        </div>
        {fieldError(sub.error, 'respect_dnt') && <p class="field-error">{fieldError(sub.error, 'respect_dnt')}</p>}
        <Field
          label="Key attributes"
          hint="Shown beside each user in segment members, recordings, answers, feedback and exports; comma-separated, at most 10. Empty: name, email, plan, ltv where present, then the most common."
          error={fieldError(sub.error, 'key_attributes')}
        >
          {(p) => (
            <input {...p} list="key-attribute-options" class="mono" value={keys} onInput={(e) => setKeys(e.currentTarget.value)} />
          )}
        </Field>
        <datalist id="key-attribute-options">
          {userKeys(cat.data).map((k) => (
            <option key={k.key} value={keys.replace(/[^,]*$/, (last) => (last.trim() ? '' : last)) + k.key} />
          ))}
        </datalist>
        <FormError error={sub.error} fields={['name', 'origins', 'respect_dnt', 'key_attributes']} />
        {saved && <Notice>Saved.</Notice>}
        <div class="actions">
          <button type="submit" class="btn btn-primary" disabled={sub.busy}>
            Save
          </button>
        </div>
      </form>
      <p class="hint mono">ID: {site.id}</p>
    </div>
  );
}

function RotateKey() {
  const site = useSite();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [key, setKey] = useState('');
  const rotate = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await post<{ write_key: string }>(sitePath(site.id, '/write-key'));
      setAsking(false);
      setKey(r.write_key);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="card">
      <h2>Write key</h2>
      <p>
        Rotating makes a new key and stops the old one at once: pages and servers that still use it are refused until they
        have the new one.
      </p>
      {error ? <p class="alert alert-error">{messageOf(error)}</p> : null}
      <button type="button" class="btn btn-danger" onClick={() => setAsking(true)}>
        Rotate the write key
      </button>
      {asking && (
        <Confirm title="Rotate the write key?" confirm="Rotate" danger busy={busy} onConfirm={rotate} onClose={() => setAsking(false)}>
          <p>The current key stops working now. Every page and server that sends data needs the new key.</p>
        </Confirm>
      )}
      {key && <WriteKeyDialog site={site} writeKey={key} title="New write key" onClose={() => setKey('')} />}
    </div>
  );
}
