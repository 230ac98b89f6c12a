// The app: finds out who is signed in (or whether the server still needs
// its first account), then shows the public pages or the signed-in shell
// with the page the address names.

import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, del, get, setCSRF, whenSignedOut } from './api';
import { LoadError, Loading } from './components/feedback';
import { InvitePage } from './pages/invite';
import { SetupPage, SignInPage } from './pages/signin';
import { routes } from './routes';
import { match, navigate, useLocation } from './router';
import { SessionContext, SessionState, SiteContext } from './session';
import { Shell } from './shell';
import type { Me } from './types';

type Boot = { state: 'loading' } | { state: 'signedIn'; me: Me } | { state: 'signedOut'; setup: boolean } | { state: 'error'; error: ApiError };

const publicPaths = ['/signin', '/setup', '/invite/'];

export function App() {
  const [boot, setBoot] = useState<Boot>({ state: 'loading' });
  const { path } = useLocation();

  const load = useCallback(async () => {
    try {
      const me = await get<Me>('/api/v1/me', { quiet401: true });
      setCSRF(me.csrf_token);
      setBoot({ state: 'signedIn', me });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        try {
          const s = await get<{ needed: boolean }>('/api/v1/setup', { quiet401: true });
          setBoot({ state: 'signedOut', setup: s.needed });
        } catch (e2) {
          setBoot({ state: 'error', error: e2 as ApiError });
        }
      } else setBoot({ state: 'error', error: e as ApiError });
    }
  }, []);

  useEffect(() => {
    whenSignedOut(() => setBoot({ state: 'signedOut', setup: false }));
    void load();
  }, [load]);

  const session = useMemo<SessionState | null>(() => {
    if (boot.state !== 'signedIn') return null;
    return {
      me: boot.me,
      refresh: load,
      replace: (me: Me) => {
        setCSRF(me.csrf_token);
        setBoot({ state: 'signedIn', me });
      },
      signOut: async () => {
        try {
          await del('/api/v1/session');
        } catch {
          // Signed out already, or the server is gone: forget the session anyway.
        }
        setCSRF('');
        setBoot({ state: 'signedOut', setup: false });
        navigate('/signin');
      },
    };
  }, [boot, load]);

  const signedIn = (me: Me, to?: string) => {
    setCSRF(me.csrf_token);
    setBoot({ state: 'signedIn', me });
    navigate(to || '/', true);
  };

  // Redirects between the public pages and the app.
  const isPublic = publicPaths.some((p) => path === p || (p.endsWith('/') && path.startsWith(p)));
  useEffect(() => {
    if (boot.state === 'signedOut') {
      if (boot.setup && path !== '/setup') navigate('/setup', true);
      else if (!boot.setup && !isPublic) {
        const back = path === '/' ? '' : '?next=' + encodeURIComponent(path + location.search);
        navigate('/signin' + back, true);
      } else if (!boot.setup && path === '/setup') navigate('/signin', true);
    } else if (boot.state === 'signedIn' && (path === '/signin' || path === '/setup')) navigate('/', true);
  }, [boot, path, isPublic]);

  if (boot.state === 'loading') return <Loading label="Starting Sightline…" />;
  if (boot.state === 'error')
    return (
      <main class="public">
        <LoadError error={boot.error} retry={() => void load()} />
      </main>
    );
  if (boot.state === 'signedOut') {
    const inv = match('/invite/:token', path);
    if (inv) return <InvitePage token={inv.token} onAccepted={(me) => signedIn(me)} />;
    if (boot.setup) return <SetupPage onDone={(me) => signedIn(me)} />;
    return <SignInPage onDone={(me, next) => signedIn(me, next)} />;
  }
  const me = boot.me;
  const inv = match('/invite/:token', path);
  if (inv) return <InvitePage token={inv.token} signedInAs={me.account.email} onAccepted={(m) => signedIn(m)} />;
  return (
    <SessionContext.Provider value={session}>
      <Shell>
        <Routed path={path} me={me} />
      </Shell>
    </SessionContext.Provider>
  );
}

function Routed(props: { path: string; me: Me }) {
  for (const r of routes) {
    const params = match(r.path, props.path);
    if (!params) continue;
    if (params.site !== undefined) {
      const site = props.me.sites.find((s) => s.id === params.site);
      if (!site) return <NoSuchSite id={params.site} />;
      const Page = r.page;
      return (
        <SiteContext.Provider value={site}>
          <Page params={params} key={r.path + '|' + site.id} />
        </SiteContext.Provider>
      );
    }
    const Page = r.page;
    return <Page params={params} key={r.path} />;
  }
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is nothing at <code>{props.path}</code>. <a href="/">Go to the start page</a>.
      </p>
    </section>
  );
}

function NoSuchSite(props: { id: string }) {
  return (
    <section>
      <h1>No such site</h1>
      <p>
        The site <code>{props.id}</code> does not exist or you have no access to it. <a href="/sites">See your sites</a>.
      </p>
    </section>
  );
}
