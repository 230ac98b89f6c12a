// The sites list, and creating a site (which shows its write key and the
// install snippet once).

import { useState } from 'preact/hooks';
import { post } from '../api';
import { CopyBox } from '../components/copy';
import { Dialog } from '../components/dialog';
import { Empty } from '../components/feedback';
import { Field, fieldError, FormError, useSubmit } from '../components/form';
import { formatDate } from '../format';
import { useTitle } from '../hooks';
import { overviewHref } from './overview';
import { Link } from '../router';
import { isAdminRole, siteAccess, useSession } from '../session';
import { snippet } from '../snippet';
import type { Site } from '../types';

/** Origins typed one a line (or separated by commas or spaces). */
export function parseOrigins(s: string): string[] {
  return s
    .split(/[\s,]+/)
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter(Boolean);
}

export function SitesPage() {
  useTitle('Sites');
  const { me, refresh } = useSession();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ site: Site; write_key: string } | null>(null);
  const canCreate = isAdminRole(me.account.role);
  return (
    <section>
      <div class="page-head">
        <h1>Sites</h1>
        {canCreate && (
          <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
            New site
          </button>
        )}
      </div>
      {me.sites.length === 0 ? (
        <Empty title="No sites yet">
          {canCreate ? (
            <p>Create a site for each web site or app you want to understand, then paste its snippet into your pages.</p>
          ) : (
            <p>You have no access to a site yet. Ask an owner or admin of your team to give you access.</p>
          )}
        </Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Allowed origins</th>
                <th scope="col">Your access</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {me.sites.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link href={overviewHref(s.id)}>{s.name}</Link>
                    <div class="sub mono">{s.id}</div>
                  </td>
                  <td>{s.origins.length ? s.origins.join(', ') : <span class="muted">any server-side sender only</span>}</td>
                  <td>{siteAccess(s, me.account.role)}</td>
                  <td>{formatDate(s.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating && (
        <CreateSite
          onClose={() => setCreating(false)}
          onCreated={async (r) => {
            setCreating(false);
            setCreated(r);
            await refresh();
          }}
        />
      )}
      {created && <WriteKeyDialog site={created.site} writeKey={created.write_key} title="Site created" onClose={() => setCreated(null)} />}
    </section>
  );
}

function CreateSite(props: { onClose: () => void; onCreated: (r: { site: Site; write_key: string }) => void }) {
  const [name, setName] = useState('');
  const [origins, setOrigins] = useState('');
  const sub = useSubmit(async () => {
    props.onCreated(await post<{ site: Site; write_key: string }>('/api/v1/sites', { name, origins: parseOrigins(origins) }));
  });
  return (
    <Dialog title="New site" onClose={props.onClose}>
      <form onSubmit={sub.onSubmit} noValidate>
        <Field label="Name" error={fieldError(sub.error, 'name')}>
          {(p) => <input {...p} value={name} onInput={(e) => setName(e.currentTarget.value)} autoFocus required />}
        </Field>
        <Field
          label="Allowed origins"
          hint="The addresses of the pages that send data, like https://app.example.com — one a line. The browser tracker is refused on any other."
          error={fieldError(sub.error, 'origins')}
        >
          {(p) => <textarea {...p} rows={3} class="mono" value={origins} onInput={(e) => setOrigins(e.currentTarget.value)} />}
        </Field>
        <FormError error={sub.error} fields={['name', 'origins']} />
        <div class="actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={sub.busy}>
            Create site
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Shows a write key once, with the snippet that uses it. */
export function WriteKeyDialog(props: { site: Site; writeKey: string; title: string; onClose: () => void }) {
  return (
    <Dialog title={props.title} onClose={props.onClose} wide>
      <p class="alert alert-warn">
        This is the only time the write key is shown. Copy it now: Sightline keeps only a hash of it.
      </p>
      <CopyBox label="Write key" text={props.writeKey} />
      <CopyBox
        label="Install snippet — paste it into the <head> of every page"
        text={snippet(location.origin, props.writeKey, !!props.site.respect_dnt)}
        multiline
      />
      <p class="hint">
        Server-side senders use the key as the HTTP Basic user name with the Segment API at <code>{location.origin}/v1/</code>.
      </p>
      <div class="actions">
        <Link href={`/s/${encodeURIComponent(props.site.id)}/settings`} class="btn" onClick={props.onClose}>
          Check the installation
        </Link>
        <button type="button" class="btn btn-primary" onClick={props.onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
