// The team: accounts with their roles and site access, pending invites
// with copyable links, and inviting someone. Owners and admins only.

import { useState } from 'preact/hooks';
import { del, get, patch, post } from '../api';
import { CopyBox } from '../components/copy';
import { Confirm, Dialog } from '../components/dialog';
import { LoadError, Loading } from '../components/feedback';
import { Field, fieldError, FormError, messageOf, useSubmit } from '../components/form';
import { Ago } from '../components/values';
import { formatDate } from '../format';
import { useLoad, useTitle } from '../hooks';
import { isAdminRole, useSession } from '../session';
import type { Invite, Role, Site, TeamAccount } from '../types';

const roles: [Role, string][] = [
  ['owner', 'Owner — everything, including other owners'],
  ['admin', 'Admin — everything on every site, and the team'],
  ['member', 'Member — the sites given, and may edit segments'],
  ['viewer', 'Viewer — the sites given, read-only'],
];

const needsSites = (r: Role) => r === 'member' || r === 'viewer';

export function TeamPage() {
  useTitle('Team');
  const { me } = useSession();
  const team = useLoad((signal) => get<{ accounts: TeamAccount[]; invites: Invite[] }>('/api/v1/accounts', { signal }), []);
  const [inviting, setInviting] = useState(false);
  const [invited, setInvited] = useState<string>('');
  const [editing, setEditing] = useState<TeamAccount | null>(null);
  const [removing, setRemoving] = useState<{ kind: 'account' | 'invite'; id: string; label: string } | null>(null);
  if (!isAdminRole(me.account.role))
    return (
      <section>
        <h1>Team</h1>
        <p>Only owners and admins manage the team.</p>
      </section>
    );
  const siteName = (id: string) => me.sites.find((s) => s.id === id)?.name || id;
  return (
    <section>
      <div class="page-head">
        <h1>Team</h1>
        <button type="button" class="btn btn-primary" onClick={() => setInviting(true)}>
          Invite someone
        </button>
      </div>
      {team.error ? (
        <LoadError error={team.error} retry={team.reload} />
      ) : !team.data ? (
        <Loading />
      ) : (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Sites</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {team.data.accounts.map((a) => (
                  <tr key={a.id}>
                    <td>
                      {a.name || a.email}
                      <div class="sub">{a.email}</div>
                    </td>
                    <td>{a.role}</td>
                    <td>{needsSites(a.role) ? a.sites.map(siteName).join(', ') || <span class="muted">none</span> : 'all'}</td>
                    <td>
                      <Ago at={a.last_seen_at} />
                    </td>
                    <td class="row-actions">
                      {(a.role !== 'owner' || me.account.role === 'owner') && a.id !== me.account.id && (
                        <>
                          <button type="button" class="btn btn-small" onClick={() => setEditing(a)} aria-label={'Change the access of ' + a.email}>
                            Change access
                          </button>
                          <button
                            type="button"
                            class="btn btn-small btn-danger"
                            onClick={() => setRemoving({ kind: 'account', id: a.id, label: a.email })}
                            aria-label={'Remove ' + a.email}
                          >
                            Remove
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="card">
            <h2>Pending invitations</h2>
            {team.data.invites.length === 0 ? (
              <p class="muted">None.</p>
            ) : (
              <div class="table-wrap">
                <table class="compact">
                  <thead>
                    <tr>
                      <th scope="col">Email</th>
                      <th scope="col">Role</th>
                      <th scope="col">Sent</th>
                      <th scope="col">
                        <span class="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {team.data.invites.map((i) => (
                      <tr key={i.id}>
                        <td>{i.email}</td>
                        <td>
                          {i.role}
                          {needsSites(i.role) && i.sites.length > 0 && <div class="sub">{i.sites.map(siteName).join(', ')}</div>}
                        </td>
                        <td>
                          {formatDate(i.created_at)}
                          {i.expires_at && <div class="sub">expires {formatDate(i.expires_at)}</div>}
                        </td>
                        <td class="row-actions">
                          {i.url && (
                            <button type="button" class="btn btn-small" onClick={() => setInvited(new URL(i.url!, location.origin).href)}>
                              Show link
                            </button>
                          )}
                          <button
                            type="button"
                            class="btn btn-small btn-danger"
                            onClick={() => setRemoving({ kind: 'invite', id: i.id, label: i.email })}
                            aria-label={'Withdraw the invitation of ' + i.email}
                          >
                            Withdraw
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
        </>
      )}
      {inviting && (
        <InviteDialog
          sites={me.sites}
          onClose={() => setInviting(false)}
          onInvited={(url) => {
            setInviting(false);
            setInvited(url);
            team.reload();
          }}
        />
      )}
      {invited && (
        <Dialog title="Invitation link" onClose={() => setInvited('')}>
          <p>Send this link to the person you invited. It signs them up with the role you chose.</p>
          <CopyBox label="Invitation link" text={invited} />
          <div class="actions">
            <button type="button" class="btn btn-primary" onClick={() => setInvited('')}>
              Done
            </button>
          </div>
        </Dialog>
      )}
      {editing && (
        <AccessDialog
          account={editing}
          sites={me.sites}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            team.reload();
          }}
        />
      )}
      {removing && (
        <RemoveDialog
          what={removing}
          onClose={() => setRemoving(null)}
          onDone={() => {
            setRemoving(null);
            team.reload();
          }}
        />
      )}
    </section>
  );
}

function SiteChecks(props: { sites: Site[]; chosen: string[]; onChange: (ids: string[]) => void; error?: string }) {
  return (
    <fieldset class="checks">
      <legend>Sites</legend>
      {props.sites.length === 0 && <p class="muted">No sites yet.</p>}
      {props.sites.map((s) => (
        <div class="check" key={s.id}>
          <input
            id={'site-' + s.id}
            type="checkbox"
            checked={props.chosen.includes(s.id)}
            onChange={(e) => props.onChange(e.currentTarget.checked ? [...props.chosen, s.id] : props.chosen.filter((x) => x !== s.id))}
          />
          <label for={'site-' + s.id}>{s.name}</label>
        </div>
      ))}
      {props.error && <p class="field-error">{props.error}</p>}
    </fieldset>
  );
}

function RoleSelect(props: { value: Role; onChange: (r: Role) => void; error?: string }) {
  const { me } = useSession();
  const offered = roles.filter(([r]) => r !== 'owner' || me.account.role === 'owner' || props.value === 'owner');
  return (
    <Field label="Role" error={props.error}>
      {(p) => (
        <select {...p} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value as Role)}>
          {offered.map(([r, l]) => (
            <option key={r} value={r}>
              {l}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

function InviteDialog(props: { sites: Site[]; onClose: () => void; onInvited: (url: string) => void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [sites, setSites] = useState<string[]>(props.sites.length === 1 ? [props.sites[0].id] : []);
  const sub = useSubmit(async () => {
    const r = await post<{ invite: Invite; url: string }>('/api/v1/invites', { email, role, sites: needsSites(role) ? sites : [] });
    props.onInvited(new URL(r.url, location.origin).href);
  });
  return (
    <Dialog title="Invite someone" onClose={props.onClose}>
      <form onSubmit={sub.onSubmit} noValidate>
        <Field label="Email" error={fieldError(sub.error, 'email')}>
          {(p) => <input {...p} type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} required autoFocus />}
        </Field>
        <RoleSelect value={role} onChange={setRole} error={fieldError(sub.error, 'role')} />
        {needsSites(role) && <SiteChecks sites={props.sites} chosen={sites} onChange={setSites} error={fieldError(sub.error, 'sites')} />}
        <FormError error={sub.error} fields={['email', 'role', 'sites']} />
        <div class="actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={sub.busy}>
            Create the invitation
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function AccessDialog(props: { account: TeamAccount; sites: Site[]; onClose: () => void; onSaved: () => void }) {
  const [role, setRole] = useState<Role>(props.account.role);
  const [sites, setSites] = useState<string[]>(props.account.sites);
  const sub = useSubmit(async () => {
    await patch('/api/v1/accounts/' + encodeURIComponent(props.account.id), { role, sites: needsSites(role) ? sites : [] });
    props.onSaved();
  });
  return (
    <Dialog title={'Access of ' + props.account.email} onClose={props.onClose}>
      <form onSubmit={sub.onSubmit} noValidate>
        <RoleSelect value={role} onChange={setRole} error={fieldError(sub.error, 'role')} />
        {needsSites(role) && <SiteChecks sites={props.sites} chosen={sites} onChange={setSites} error={fieldError(sub.error, 'sites')} />}
        <FormError error={sub.error} fields={['role', 'sites']} />
        <div class="actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={sub.busy}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function RemoveDialog(props: { what: { kind: 'account' | 'invite'; id: string; label: string }; onClose: () => void; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const account = props.what.kind === 'account';
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await del((account ? '/api/v1/accounts/' : '/api/v1/invites/') + encodeURIComponent(props.what.id));
      props.onDone();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Confirm
      title={account ? 'Remove ' + props.what.label + '?' : 'Withdraw the invitation?'}
      confirm={account ? 'Remove' : 'Withdraw'}
      danger
      busy={busy}
      onConfirm={go}
      onClose={props.onClose}
    >
      <p>{account ? 'They are signed out and can no longer sign in.' : `The link sent to ${props.what.label} stops working.`}</p>
      {error ? <p class="alert alert-error">{messageOf(error)}</p> : null}
    </Confirm>
  );
}
