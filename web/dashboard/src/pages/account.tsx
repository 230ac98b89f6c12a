// The signed-in person's own account: name and password.

import { useState } from 'preact/hooks';
import { patch } from '../api';
import { Notice } from '../components/feedback';
import { Field, fieldError, FormError, useSubmit } from '../components/form';
import { useTitle } from '../hooks';
import { useSession } from '../session';
import type { Me } from '../types';

export function AccountPage() {
  useTitle('My account');
  const { me, replace } = useSession();
  return (
    <section>
      <div class="page-head">
        <h1>My account</h1>
      </div>
      <dl class="facts">
        <dt>Email</dt>
        <dd>{me.account.email}</dd>
        <dt>Role</dt>
        <dd>{me.account.role}</dd>
      </dl>
      <NameForm name={me.account.name} onSaved={replace} />
      <PasswordForm onSaved={replace} />
    </section>
  );
}

function NameForm(props: { name: string; onSaved: (me: Me) => void }) {
  const [name, setName] = useState(props.name);
  const [done, setDone] = useState(false);
  const sub = useSubmit(async () => {
    setDone(false);
    props.onSaved(await patch<Me>('/api/v1/me', { name }));
    setDone(true);
  });
  return (
    <form class="card" onSubmit={sub.onSubmit} noValidate>
      <h2>Name</h2>
      <Field label="Name" error={fieldError(sub.error, 'name')}>
        {(p) => <input {...p} autoComplete="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />}
      </Field>
      <FormError error={sub.error} fields={['name']} />
      {done && <Notice>Your name is saved.</Notice>}
      <div class="actions actions-left">
        <button type="submit" class="btn btn-primary" disabled={sub.busy}>
          Save name
        </button>
      </div>
    </form>
  );
}

function PasswordForm(props: { onSaved: (me: Me) => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [done, setDone] = useState(false);
  const [mismatch, setMismatch] = useState(false);
  const sub = useSubmit(async () => {
    setDone(false);
    if (next !== again) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    // A new password ends every session and starts this one anew, with a new CSRF token.
    props.onSaved(await patch<Me>('/api/v1/me', { password: next, current_password: current }));
    setCurrent('');
    setNext('');
    setAgain('');
    setDone(true);
  });
  return (
    <form class="card" onSubmit={sub.onSubmit} noValidate>
      <h2>Password</h2>
      <Field label="Current password" error={fieldError(sub.error, 'current_password')}>
        {(p) => <input {...p} type="password" autoComplete="current-password" value={current} onInput={(e) => setCurrent(e.currentTarget.value)} required />}
      </Field>
      <Field label="New password" hint="At least 10 characters. Other browsers signed in as you are signed out." error={fieldError(sub.error, 'password')}>
        {(p) => <input {...p} type="password" autoComplete="new-password" value={next} onInput={(e) => setNext(e.currentTarget.value)} required />}
      </Field>
      <Field label="New password again" error={mismatch ? 'The two new passwords differ.' : undefined}>
        {(p) => <input {...p} type="password" autoComplete="new-password" value={again} onInput={(e) => setAgain(e.currentTarget.value)} required />}
      </Field>
      <FormError error={sub.error} fields={['current_password', 'password']} />
      {done && <Notice>Your password is changed.</Notice>}
      <div class="actions actions-left">
        <button type="submit" class="btn btn-primary" disabled={sub.busy}>
          Change password
        </button>
      </div>
    </form>
  );
}
