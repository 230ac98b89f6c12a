// A site's API tokens: create (the secret is shown once) and revoke.

import { useState } from 'preact/hooks';
import { del, get, post, sitePath } from '../api';
import { CopyBox } from '../components/copy';
import { Confirm, Dialog } from '../components/dialog';
import { Empty, LoadError, Loading } from '../components/feedback';
import { Field, fieldError, FormError, messageOf, useSubmit } from '../components/form';
import { Ago } from '../components/values';
import { formatDate } from '../format';
import { useLoad, useTitle } from '../hooks';
import { allows, siteAccess, useSession, useSite } from '../session';
import type { Access, Token } from '../types';

const scopes: [Access, string][] = [
  ['read', 'read — users, attributes, segments'],
  ['write', 'write — also merges and saving segments'],
  ['admin', 'admin — also attribute type changes'],
];

export function TokensPage() {
  const site = useSite();
  const { me } = useSession();
  useTitle('API tokens — ' + site.name);
  const admin = allows(siteAccess(site, me.account.role), 'admin');
  const list = useLoad((signal) => get<{ tokens: Token[] }>(sitePath(site.id, '/tokens'), { signal }), [site.id]);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ token: Token; secret: string } | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const [revokeError, setRevokeError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (!admin)
    return (
      <section>
        <h1>API tokens</h1>
        <p>Only admins of this site manage its API tokens.</p>
      </section>
    );
  const revoke = async () => {
    if (!revoking) return;
    setBusy(true);
    setRevokeError(null);
    try {
      await del(sitePath(site.id, '/tokens/' + encodeURIComponent(revoking.id)));
      setRevoking(null);
      list.reload();
    } catch (e) {
      setRevokeError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <div class="page-head">
        <h1>API tokens</h1>
        <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
          New token
        </button>
      </div>
      <p class="lead">
        Tokens let scripts read this site's data through the REST API: <code>Authorization: Bearer TOKEN</code> on{' '}
        <code>{location.origin + sitePath(site.id)}</code>.
      </p>
      {list.error ? (
        <LoadError error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : list.data.tokens.length === 0 ? (
        <Empty title="No API tokens">
          <p>Create one for each script or service that reads this site's data, so that each can be revoked alone.</p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scope</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.tokens.map((t) => (
                <tr key={t.id} class={t.revoked_at ? 'revoked' : ''}>
                  <td>
                    {t.name || <span class="muted">unnamed</span>}
                    <div class="sub mono">{t.id}</div>
                  </td>
                  <td>{t.scope}</td>
                  <td>{formatDate(t.created_at)}</td>
                  <td>{t.last_used_at !== undefined ? <Ago at={t.last_used_at} /> : '—'}</td>
                  <td>
                    {t.revoked_at ? (
                      <span class="muted">revoked {formatDate(t.revoked_at)}</span>
                    ) : (
                      <button type="button" class="btn btn-small btn-danger" onClick={() => setRevoking(t)} aria-label={'Revoke ' + (t.name || t.id)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating && (
        <CreateToken
          onClose={() => setCreating(false)}
          onCreated={(r) => {
            setCreating(false);
            setSecret(r);
            list.reload();
          }}
        />
      )}
      {secret && (
        <Dialog title="Token created" onClose={() => setSecret(null)}>
          <p class="alert alert-warn">This is the only time the token is shown. Copy it now.</p>
          <CopyBox label={`Token (${secret.token.scope})`} text={secret.secret} />
          <div class="actions">
            <button type="button" class="btn btn-primary" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        </Dialog>
      )}
      {revoking && (
        <Confirm title="Revoke this token?" confirm="Revoke" danger busy={busy} onConfirm={revoke} onClose={() => setRevoking(null)}>
          <p>Scripts that use {revoking.name || revoking.id} are refused from now on.</p>
          {revokeError ? <p class="alert alert-error">{messageOf(revokeError)}</p> : null}
        </Confirm>
      )}
    </section>
  );
}

function CreateToken(props: { onClose: () => void; onCreated: (r: { token: Token; secret: string }) => void }) {
  const site = useSite();
  const [name, setName] = useState('');
  const [scope, setScope] = useState<Access>('read');
  const sub = useSubmit(async () => {
    props.onCreated(await post<{ token: Token; secret: string }>(sitePath(site.id, '/tokens'), { scope, name }));
  });
  return (
    <Dialog title="New API token" onClose={props.onClose}>
      <form onSubmit={sub.onSubmit} noValidate>
        <Field label="Name" hint="What uses it, like “nightly CRM sync”." error={fieldError(sub.error, 'name')}>
          {(p) => <input {...p} value={name} onInput={(e) => setName(e.currentTarget.value)} autoFocus />}
        </Field>
        <Field label="Scope" error={fieldError(sub.error, 'scope')}>
          {(p) => (
            <select {...p} value={scope} onChange={(e) => setScope(e.currentTarget.value as Access)}>
              {scopes.map(([s, l]) => (
                <option key={s} value={s}>
                  {l}
                </option>
              ))}
            </select>
          )}
        </Field>
        <FormError error={sub.error} fields={['name', 'scope']} />
        <div class="actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={sub.busy}>
            Create token
          </button>
        </div>
      </form>
    </Dialog>
  );
}
