// Accepting an invitation: the invited person chooses a name and password.

import { useState } from 'preact/hooks';
import { get, post } from '../api';
import { LoadError, Loading } from '../components/feedback';
import { Field, fieldError, FormError, useSubmit } from '../components/form';
import { useLoad, useTitle } from '../hooks';
import type { Me } from '../types';
import { PublicCard } from './signin';

interface InviteInfo {
  email: string;
  role: string;
  invited_by?: string;
  expires_at?: string;
}

export function InvitePage(props: { token: string; signedInAs?: string; onAccepted: (me: Me) => void }) {
  useTitle('Join the team');
  const inv = useLoad(
    (signal) => get<InviteInfo | { invite: InviteInfo }>('/api/v1/invites/' + encodeURIComponent(props.token), { signal, quiet401: true }),
    [props.token],
  );
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const sub = useSubmit(async () => {
    props.onAccepted(
      await post<Me>('/api/v1/invites/' + encodeURIComponent(props.token) + '/accept', { name, password }, { quiet401: true }),
    );
  });
  if (inv.loading && !inv.data) return <Loading />;
  if (inv.error)
    return (
      <PublicCard title="This invitation cannot be used">
        <LoadError error={inv.error} />
        <p>Ask the person who invited you for a new link.</p>
      </PublicCard>
    );
  const info: InviteInfo = inv.data && 'invite' in inv.data ? inv.data.invite : (inv.data as InviteInfo);
  return (
    <PublicCard
      title="Join the team"
      intro={
        <>
          You were invited as <strong>{info.email}</strong> with the role <strong>{info.role}</strong>.
        </>
      }
    >
      {props.signedInAs && (
        <p class="alert alert-warn">
          You are signed in as {props.signedInAs}. Accepting signs you in as {info.email} instead.
        </p>
      )}
      <form onSubmit={sub.onSubmit} noValidate>
        <Field label="Your name" error={fieldError(sub.error, 'name')}>
          {(p) => <input {...p} autoComplete="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required autoFocus />}
        </Field>
        <Field label="Choose a password" hint="At least 10 characters." error={fieldError(sub.error, 'password')}>
          {(p) => (
            <input {...p} type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
          )}
        </Field>
        <FormError error={sub.error} fields={['name', 'password']} />
        <button type="submit" class="btn btn-primary btn-block" disabled={sub.busy}>
          {sub.busy ? 'Joining…' : 'Join'}
        </button>
      </form>
    </PublicCard>
  );
}
