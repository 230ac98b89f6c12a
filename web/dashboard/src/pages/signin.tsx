// The pages before signing in: the first run (creating the owner) and
// signing in.

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, post } from '../api';
import { Field, fieldError, FormError, useSubmit } from '../components/form';
import { useTitle } from '../hooks';
import type { Me } from '../types';

/** The centred card that public pages use. */
export function PublicCard(props: { title: string; intro?: ComponentChildren; children: ComponentChildren }) {
  return (
    <main class="public" id="main">
      <div class="card public-card">
        <p class="brand">Sightline</p>
        <h1>{props.title}</h1>
        {props.intro && <p class="intro">{props.intro}</p>}
        {props.children}
      </div>
    </main>
  );
}

export function SetupPage(props: { onDone: (me: Me) => void }) {
  useTitle('Set up');
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const sub = useSubmit(async () => {
    props.onDone(await post<Me>('/api/v1/setup', { email, name, password }, { quiet401: true }));
  });
  return (
    <PublicCard title="Welcome to Sightline" intro="Create the owner account. The owner manages the team, the sites and their keys.">
      <form onSubmit={sub.onSubmit} noValidate>
        <Field label="Your name" error={fieldError(sub.error, 'name')}>
          {(p) => <input {...p} autoComplete="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />}
        </Field>
        <Field label="Email" error={fieldError(sub.error, 'email')}>
          {(p) => <input {...p} type="email" autoComplete="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} required />}
        </Field>
        <Field label="Password" hint="At least 10 characters." error={fieldError(sub.error, 'password')}>
          {(p) => (
            <input {...p} type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
          )}
        </Field>
        <FormError error={sub.error} fields={['name', 'email', 'password']} />
        <button type="submit" class="btn btn-primary btn-block" disabled={sub.busy}>
          {sub.busy ? 'Creating…' : 'Create the owner account'}
        </button>
      </form>
    </PublicCard>
  );
}

export function SignInPage(props: { onDone: (me: Me, next?: string) => void }) {
  useTitle('Sign in');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const sub = useSubmit(async () => {
    try {
      const me = await post<Me>('/api/v1/session', { email, password }, { quiet401: true });
      const next = new URLSearchParams(location.search).get('next');
      props.onDone(me, next && next.startsWith('/') && !next.startsWith('//') ? next : undefined);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'invalid_credentials')
        throw new ApiError(e.status, e.code, 'That email and password do not match an account.', 'password');
      throw e;
    }
  });
  return (
    <PublicCard title="Sign in">
      <form onSubmit={sub.onSubmit} noValidate>
        <Field label="Email" error={fieldError(sub.error, 'email')}>
          {(p) => (
            <input {...p} type="email" autoComplete="username" value={email} onInput={(e) => setEmail(e.currentTarget.value)} required autoFocus />
          )}
        </Field>
        <Field label="Password" error={fieldError(sub.error, 'password')}>
          {(p) => (
            <input {...p} type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
          )}
        </Field>
        <FormError error={sub.error} fields={['email', 'password']} />
        <button type="submit" class="btn btn-primary btn-block" disabled={sub.busy}>
          {sub.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p class="hint">Forgot your password? Ask an owner or admin of your team to invite you again.</p>
    </PublicCard>
  );
}
