// A user's profile: attributes with their types and history, companies,
// sessions (with frustration signals when the server reports them),
// events page by page, and the saved segments the user is in.

import { useEffect, useState } from 'preact/hooks';
import { get, query, sitePath } from '../api';
import { Empty, LoadError, Loading } from '../components/feedback';
import { messageOf } from '../components/form';
import { Ago, TypeBadge, Value } from '../components/values';
import { formatCount, formatDuration, formatTime, plural } from '../format';
import { useLoad, useTitle } from '../hooks';
import { Link } from '../router';
import { allows, siteAccess, useSession, useSite } from '../session';
import type { Attr, Change, Event, Session, Signals, UserProfile } from '../types';
import type { PageProps } from '../router';
import { useLocation } from '../router';
import { playerHref, recordingsHref } from './recordings';
import { personOf } from './users';
import { DeleteUser } from './profile-erase';

/** Builds the API address of something about the user: url('/history', {key: 'plan'}). */
type UserURL = (sub: string, params?: Record<string, string | number | undefined>) => string;

export function ProfilePage(props: PageProps) {
  const site = useSite();
  const { me } = useSession();
  const id = props.params.id;
  const anonymous = useLocation().query.get('kind') === 'anonymous';
  const base = sitePath(site.id, '/users/' + encodeURIComponent(id));
  const url: UserURL = (sub, params = {}) => base + sub + query({ kind: anonymous ? 'anonymous' : undefined, ...params });
  const user = useLoad((signal) => get<UserProfile>(url(''), { signal }), [base, anonymous]);
  useTitle((personOf(user.data?.attributes).name || id) + ' — ' + site.name);
  if (user.error)
    return (
      <section>
        <h1>{id}</h1>
        {user.error.status === 404 ? (
          <Empty title="No such user">
            <p>
              Nothing was received about {anonymous ? 'the anonymous visitor' : 'the user'} <code>{id}</code> on this site.{' '}
              <Link href={`/s/${encodeURIComponent(site.id)}/users`}>Back to users</Link>
            </p>
          </Empty>
        ) : (
          <LoadError error={user.error} retry={user.reload} />
        )}
      </section>
    );
  if (!user.data) return <Loading />;
  const u = user.data;
  const shownID = u.user_id || id;
  const who = personOf(u.attributes);
  const title = who.name || who.email;
  return (
    <section>
      <p class="crumbs">
        <Link href={`/s/${encodeURIComponent(site.id)}/users`}>Users</Link> /
      </p>
      <div class="page-head">
        <div class="profile-title">
          <h1 class="break">{title || shownID}</h1>
          {(title || anonymous) && (
            <p class="sub-id">
              {who.name && who.email && <span class="break">{who.email}</span>}
              {title && (
                <span class="mono break" title={anonymous ? 'Anonymous ID' : 'User ID'}>
                  {shownID}
                </span>
              )}
              {anonymous && <span class="badge">anonymous</span>}
            </p>
          )}
        </div>
        <div class="head-actions">
          <Link class="btn" href={recordingsHref(site.id, { user: id, kind: anonymous ? 'anonymous' : undefined })}>
            Recordings of this user
          </Link>
          {allows(siteAccess(site, me.account.role), 'admin') && (
            <>
              <a class="btn" href={url('/export')} download title="A zip of JSON files: everything held about this user">
                Export data
              </a>
              <DeleteUser sitePath={sitePath(site.id)} siteID={site.id} id={id} anonymous={anonymous} />
            </>
          )}
        </div>
      </div>
      <dl class="facts facts-row">
        <dt>First seen</dt>
        <dd>
          <Ago at={u.first_seen} />
        </dd>
        <dt>Last seen</dt>
        <dd>
          <Ago at={u.last_seen} />
        </dd>
        <dt>Sessions</dt>
        <dd>{formatCount(u.sessions)}</dd>
        <dt>Events</dt>
        <dd>{formatCount(u.events)}</dd>
        {u.anonymous_ids.length > 0 && (
          <>
            <dt>Anonymous IDs</dt>
            <dd class="mono break">{u.anonymous_ids.join(', ')}</dd>
          </>
        )}
      </dl>
      <div class="grid-2">
        <div class="card">
          <h2>Attributes</h2>
          <Attributes url={url} attrs={u.attributes} />
        </div>
        <div>
          <UserSegments url={url} />
          <div class="card">
            <h2>Companies</h2>
            {u.companies.length === 0 ? (
              <p class="muted">Not in a company. Companies come from the Segment API's group calls.</p>
            ) : (
              u.companies.map((c) => (
                <div class="company" key={c.group_id}>
                  <h3 class="mono">{c.group_id}</h3>
                  <AttrTable attrs={c.attributes} />
                </div>
              ))
            )}
          </div>
        </div>
      </div>
      <Sessions url={url} />
      <Events url={url} key={url('')} />
    </section>
  );
}

function sortedKeys(attrs: Record<string, Attr>): string[] {
  return Object.keys(attrs).sort();
}

function AttrTable(props: { attrs: Record<string, Attr> }) {
  const keys = sortedKeys(props.attrs);
  if (!keys.length) return <p class="muted">No attributes.</p>;
  return (
    <div class="table-wrap">
      <table class="compact">
        <tbody>
          {keys.map((k) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>
                <Value value={props.attrs[k].value} type={props.attrs[k].type} />
              </td>
              <td>
                <TypeBadge type={props.attrs[k].type} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The user's attributes; each opens its history as a timeline. */
function Attributes(props: { url: UserURL; attrs: Record<string, Attr> }) {
  const [open, setOpen] = useState<string | null>(null);
  const keys = sortedKeys(props.attrs);
  if (!keys.length)
    return (
      <p class="muted">
        No attributes yet. Send them with <code>sightline('identify', id, {'{…}'})</code> or the Segment API's identify.
      </p>
    );
  return (
    <div class="table-wrap">
      <table class="attrs">
        <thead>
          <tr>
            <th scope="col">Attribute</th>
            <th scope="col">Value</th>
            <th scope="col">Type</th>
            <th scope="col">Changed</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => {
            const a = props.attrs[k];
            return [
              <tr key={k} data-attr={k}>
                <th scope="row">
                  <button
                    type="button"
                    class="link"
                    aria-expanded={open === k}
                    aria-controls={'hist-' + k}
                    onClick={() => setOpen(open === k ? null : k)}
                  >
                    {k}
                  </button>
                </th>
                <td class="break">
                  <Value value={a.value} type={a.type} />
                </td>
                <td>
                  <TypeBadge type={a.type} />
                </td>
                <td>
                  <Ago at={a.changed_at} />
                </td>
              </tr>,
              open === k && (
                <tr key={k + '-history'} id={'hist-' + k}>
                  <td colSpan={4}>
                    <History url={props.url} attrKey={k} />
                  </td>
                </tr>
              ),
            ];
          })}
        </tbody>
      </table>
    </div>
  );
}

function History(props: { url: UserURL; attrKey: string }) {
  const url = props.url('/history', { key: props.attrKey });
  const h = useLoad((signal) => get<{ history: Change[] }>(url, { signal }), [url]);
  if (h.error) return <LoadError error={h.error} retry={h.reload} />;
  if (!h.data) return <Loading />;
  const changes = [...h.data.history].reverse();
  return (
    <ol class="timeline" aria-label={'History of ' + props.attrKey}>
      {changes.map((c, i) => (
        <li key={i}>
          <time dateTime={c.at}>{formatTime(c.at)}</time>
          <span>
            {c.value === null ? <span class="muted">unset</span> : <Value value={c.value} type={c.type} />}
            {i === changes.length - 1 && <span class="muted"> (first value)</span>}
          </span>
        </li>
      ))}
    </ol>
  );
}

function UserSegments(props: { url: UserURL }) {
  const site = useSite();
  const url = props.url('/segments');
  const s = useLoad((signal) => get<{ segments: { id: string; name: string }[] }>(url, { signal }), [url]);
  return (
    <div class="card">
      <h2>Segments</h2>
      {s.error ? (
        <LoadError error={s.error} retry={s.reload} />
      ) : !s.data ? (
        <Loading />
      ) : s.data.segments.length === 0 ? (
        <p class="muted">In no saved segment.</p>
      ) : (
        <ul class="chips">
          {s.data.segments.map((g) => (
            <li key={g.id}>
              <Link href={`/s/${encodeURIComponent(site.id)}/segments/${encodeURIComponent(g.id)}`}>{g.name}</Link>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

const signalNames: [keyof Signals, string, string][] = [
  ['clicks', 'click', 'clicks'],
  ['rage_clicks', 'rage click', 'rage clicks'],
  ['dead_clicks', 'dead click', 'dead clicks'],
  ['u_turns', 'u-turn', 'u-turns'],
  ['errors', 'error', 'errors'],
];

/** The signals a session had; counts of zero are left out. */
function SignalList(props: { s: Signals }) {
  const parts = signalNames
    .filter(([k]) => ((props.s[k] as number) || 0) > 0)
    .map(([k, one, many]) => (
      <span key={k} class={'signal' + (k !== 'clicks' ? ' signal-on' : '')}>
        {plural(props.s[k] as number, one, many)}
      </span>
    ));
  if (props.s.max_scroll) parts.push(<span key="scroll" class="signal">scrolled {Math.round(props.s.max_scroll)}%</span>);
  return parts.length ? <span class="signals">{parts}</span> : <span class="muted">none</span>;
}

const sessionsShown = 10;

function Sessions(props: { url: UserURL }) {
  const site = useSite();
  const [all, setAll] = useState(false);
  const url = props.url('/sessions');
  const s = useLoad((signal) => get<{ sessions: Session[] }>(url, { signal }), [url]);
  const withSignals = !!s.data && s.data.sessions.some((x) => x.signals);
  const withRecordings = !!s.data && s.data.sessions.some((x) => x.recordings && x.recordings.length > 0);
  return (
    <div class="card">
      <h2>Sessions</h2>
      {s.error ? (
        <LoadError error={s.error} retry={s.reload} />
      ) : !s.data ? (
        <Loading />
      ) : s.data.sessions.length === 0 ? (
        <p class="muted">No sessions: sessions come from page views and events.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Device</th>
                <th scope="col">Pages</th>
                <th scope="col">Entry page</th>
                {withSignals && <th scope="col">Signals</th>}
                {withRecordings && <th scope="col">Recording</th>}
              </tr>
            </thead>
            <tbody>
              {(all ? s.data.sessions : s.data.sessions.slice(0, sessionsShown)).map((x) => (
                <tr key={x.id} data-session={x.id}>
                  <td>{formatTime(x.start)}</td>
                  <td>{formatDuration(x.duration_seconds)}</td>
                  <td>
                    {[x.device_type, x.browser, x.os].filter(Boolean).join(' · ') || '—'}
                    {x.country && <div class="sub">{x.country}</div>}
                  </td>
                  <td>{formatCount(x.pages)}</td>
                  <td class="break">
                    {x.entry_page || '—'}
                    {x.channel && <div class="sub">{x.channel}{x.utm_source ? ' · ' + x.utm_source : ''}</div>}
                  </td>
                  {withSignals && <td>{x.signals ? <SignalList s={x.signals} /> : '—'}</td>}
                  {withRecordings && (
                    <td class="session-recordings">
                      {x.recordings && x.recordings.length > 0 ? (
                        x.recordings.map((r, i) => (
                          <Link
                            key={r}
                            href={playerHref(site.id, r)}
                            class="btn btn-small"
                            aria-label={'Watch the recording of the session of ' + formatTime(x.start) + (x.recordings!.length > 1 ? ', tab ' + (i + 1) : '')}
                          >
                            ▶ {x.recordings!.length > 1 ? 'Tab ' + (i + 1) : 'Watch'}
                          </Link>
                        ))
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {!all && s.data.sessions.length > sessionsShown && (
            <button type="button" class="btn btn-small more" onClick={() => setAll(true)}>
              Show all {s.data.sessions.length} recent sessions
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function Events(props: { url: UserURL }) {
  const [pages, setPages] = useState<Event[][]>([]);
  const [next, setNext] = useState<string | null>('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const load = async (before: string) => {
    setBusy(true);
    setError(null);
    try {
      const r = await get<{ events: Event[]; next_before: string }>(props.url('/events', { limit: 50, before: before || undefined }));
      setPages((p) => [...p, r.events]);
      setNext(r.next_before || null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void load('');
    // The component is keyed by the user: it loads the first page once.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const events = pages.flat();
  return (
    <div class="card">
      <h2>Events</h2>
      {events.length === 0 && !busy && !error && <p class="muted">No events.</p>}
      {events.length > 0 && (
        <ol class="events">
          {events.map((e) => (
            <li key={e.message_id}>
              <time dateTime={e.timestamp}>{formatTime(e.timestamp)}</time>
              <span class={'event-kind kind-' + e.type}>{e.type}</span>
              <span class="event-name break">{e.type === 'page' || e.type === 'screen' ? e.path || e.url || e.name : e.name}</span>
              {e.properties && Object.keys(e.properties).length > 0 && (
                <details class="props">
                  <summary>properties</summary>
                  <pre>{JSON.stringify(e.properties, null, 2)}</pre>
                </details>
              )}
            </li>
          ))}
        </ol>
      )}
      {error ? <p class="alert alert-error">{messageOf(error)}</p> : null}
      {busy && <Loading />}
      {next && !busy && (
        <button type="button" class="btn" onClick={() => void load(next)}>
          Older events
        </button>
      )}
    </div>
  );
}
