// The player: a recording replayed with rrweb's replayer (loaded on
// demand, in parallel with the recording's events), our own controls —
// play/pause, speeds, skip inactivity, a scrubber with markers for page
// views, clicks, rage and dead clicks, errors, custom events and identify
// calls — beside it the user's attributes and the session's details, and
// for those who may write, a way to delete it.
//
// Performance marks: "sl:player-open" when the page starts, and
// "sl:first-frame" once the first full snapshot is rebuilt and painted;
// the time between them is shown on the player (data-first-frame-ms).

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, del, get, query, sitePath } from '../api';
import { Confirm } from '../components/dialog';
import { Empty, LoadError, Loading } from '../components/feedback';
import { messageOf } from '../components/form';
import { TypeBadge, Value } from '../components/values';
import { formatCount, formatDuration, formatTime, formatValue, plural } from '../format';
import { useLoad, useTitle } from '../hooks';
import type { PageProps } from '../router';
import { Link, navigate } from '../router';
import { allows, siteAccess, useSession, useSite } from '../session';
import type { UserProfile } from '../types';
import { Timeline, clock, markLabel } from '../recordings/timeline';
import type { RecordingDetail, TimelineItem } from '../recordings/types';
import { SignalCounts, pathOf, recordingsHref } from './recordings';
import { personOf, profileHref } from './users';

type ReplayerModule = typeof import('../recordings/replayer');
type Replayer = InstanceType<ReplayerModule['Replayer']>;

const speeds = [1, 2, 4, 8];

export function PlayerPage(props: PageProps) {
  // Keyed by the recording: another recording is a fresh player.
  return <Player id={props.params.rec} key={props.params.rec} />;
}

function Player(props: { id: string }) {
  const site = useSite();
  const id = props.id;
  // Marked at the first render: the clock starts when the page opens.
  useState(() => performance.mark('sl:player-open'));
  useTitle('Recording — ' + site.name);
  const base = sitePath(site.id, '/recordings/' + encodeURIComponent(id));
  const lib = useLoad(() => import('../recordings/replayer'), []);
  const events = useLoad((signal) => get<unknown[]>(base + '/events', { signal }), [base]);
  const detail = useLoad((signal) => get<RecordingDetail>(base, { signal }), [base]);
  const rec = detail.data?.recording;
  const user = useLoad(
    (signal) =>
      rec
        ? get<UserProfile>(sitePath(site.id, '/users/' + encodeURIComponent(rec.user)) + query({ kind: rec.user_id ? undefined : 'anonymous' }), { signal })
        : new Promise<never>(() => {}),
    [rec?.user, rec?.user_id],
  );
  const { me } = useSession();
  const canDelete = allows(siteAccess(site, me.account.role), 'write');
  const [asking, setAsking] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const remove = async () => {
    setDeleting(true);
    setDeleteError(null);
    try {
      await del(base);
    } catch (e) {
      // Already gone (another tab, the retention period): as good as deleted.
      if (!(e instanceof ApiError && e.status === 404)) {
        setDeleteError(e);
        setDeleting(false);
        return;
      }
    }
    // Replaced, so that Back does not return to a recording that is gone.
    navigate(recordingsHref(site.id), true);
  };
  const error = detail.error || events.error;
  if (error)
    return (
      <section>
        <h1>Recording</h1>
        {error.status === 404 ? (
          <Empty title="No such recording">
            <p>
              It may have been deleted, or passed the site's retention period.{' '}
              <Link href={recordingsHref(site.id)}>Back to recordings</Link>
            </p>
          </Empty>
        ) : (
          <LoadError error={error} retry={() => (detail.error ? detail.reload() : events.reload())} />
        )}
      </section>
    );
  return (
    <section class="player-page">
      <p class="crumbs">
        <Link href={recordingsHref(site.id)}>Recordings</Link> /
      </p>
      <div class="page-head">
        <h1 class="break">{rec ? 'Recording of ' + rec.user : 'Recording'}</h1>
        {rec && canDelete && (
          <div class="head-actions">
            <button type="button" class="btn btn-danger" onClick={() => setAsking(true)}>
              Delete recording
            </button>
          </div>
        )}
      </div>
      {asking && rec && (
        <Confirm
          title="Delete this recording?"
          confirm={deleting ? 'Deleting…' : 'Delete'}
          danger
          busy={deleting}
          onConfirm={() => void remove()}
          onClose={() => setAsking(false)}
        >
          <p>
            The recording of <strong class="break">{rec.user}</strong> from {formatTime(rec.started_at)} ({formatDuration(rec.duration_seconds)}) is
            deleted with everything stored of it. This cannot be undone; the user's events and attributes stay.
          </p>
          {deleteError ? <p class="alert alert-error">{messageOf(deleteError)}</p> : null}
        </Confirm>
      )}
      <div class="player-grid">
        <div class="card player-card">
          {lib.error ? (
            <LoadError error={lib.error} retry={lib.reload} />
          ) : lib.data && events.data && detail.data ? (
            <Stage lib={lib.data} events={events.data} timeline={detail.data.timeline} durationMS={detail.data.recording.duration_seconds * 1000} />
          ) : (
            <Loading label="Loading the recording…" />
          )}
        </div>
        <aside class="player-side">
          {rec && <SessionCard detail={detail.data!} />}
          <div class="card">
            <h2>User</h2>
            {!rec || (!user.data && !user.error) ? (
              <Loading />
            ) : user.error ? (
              user.error.status === 404 ? <p class="muted">Nothing else is known about this visitor.</p> : <LoadError error={user.error} retry={user.reload} />
            ) : (
              <UserAttributes u={user.data!} id={rec.user} anonymous={!rec.user_id} />
            )}
          </div>
        </aside>
      </div>
    </section>
  );
}

function SessionCard(props: { detail: RecordingDetail }) {
  const r = props.detail.recording;
  return (
    <div class="card">
      <h2>Session</h2>
      <dl class="facts">
        <dt>Started</dt>
        <dd>{formatTime(r.started_at)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(r.duration_seconds)}</dd>
        <dt>Pages</dt>
        <dd>{r.pages}</dd>
        <dt>Entry page</dt>
        <dd class="break">{r.first_url ? pathOf(r.first_url) : '—'}</dd>
        <dt>Device</dt>
        <dd>{[r.device, r.browser, r.os].filter(Boolean).join(' · ') || '—'}</dd>
        <dt>Country</dt>
        <dd>{r.country || '—'}</dd>
        <dt>Signals</dt>
        <dd>
          <SignalCounts s={r.signals} />
        </dd>
        <dt>Stored</dt>
        <dd>
          {r.bytes_stored < 1024 ? formatCount(r.bytes_stored) + ' bytes' : formatCount(Math.round(r.bytes_stored / 1024)) + ' KB'} in{' '}
          {plural(r.chunks, 'chunk')}
        </dd>
      </dl>
    </div>
  );
}

function UserAttributes(props: { u: UserProfile; id: string; anonymous: boolean }) {
  const site = useSite();
  const attrs = props.u.attributes;
  const keys = Object.keys(attrs).sort();
  const id = props.id;
  const who = personOf(attrs);
  return (
    <>
      <div class="person">
        {(who.name || who.email) && (
          <p class="person-name ellipsis" title={who.name || who.email}>
            {who.name || who.email}
          </p>
        )}
        {who.name && who.email && (
          <p class="person-email ellipsis" title={who.email}>
            {who.email}
          </p>
        )}
        <p class="person-id">
          <Link href={profileHref(site.id, id, props.anonymous)} class="ellipsis" title={id}>
            {id}
          </Link>
          {props.anonymous && <span class="badge">anonymous</span>}
        </p>
      </div>
      {keys.length === 0 ? (
        <p class="muted">No attributes.</p>
      ) : (
        <dl class="kv user-attrs">
          {keys.map((k) => (
            <div class="kv-row" key={k} data-attr={k}>
              <dt class="ellipsis" title={k}>
                {k}
              </dt>
              <dd class="ellipsis" title={formatValue(attrs[k].value, attrs[k].type)}>
                <Value value={attrs[k].value} type={attrs[k].type} />
              </dd>
              <dd class="kv-type">
                <TypeBadge type={attrs[k].type} />
              </dd>
            </div>
          ))}
        </dl>
      )}
      <p>
        <Link href={recordingsHref(site.id, { user: id, kind: props.anonymous ? 'anonymous' : undefined })}>All recordings of this user</Link>
      </p>
    </>
  );
}

/** The recorded viewport's size, from the first Meta event. */
function viewportOf(events: unknown[]): { width: number; height: number } {
  for (const e of events as { type?: number; data?: { width?: number; height?: number } }[]) {
    if (e && e.type === 4 && e.data && e.data.width && e.data.height) return { width: e.data.width, height: e.data.height };
  }
  return { width: 1280, height: 800 };
}

function Stage(props: { lib: ReplayerModule; events: unknown[]; timeline: TimelineItem[]; durationMS: number }) {
  const root = useRef<HTMLDivElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const player = useRef<Replayer | null>(null);
  const [playing, setPlaying] = useState(false);
  const [now, setNow] = useState(0);
  const [total, setTotal] = useState(props.durationMS);
  const [speed, setSpeed] = useState(1);
  const [skip, setSkip] = useState(true);
  const [skipping, setSkipping] = useState(false);
  const [firstFrame, setFirstFrame] = useState<number | null>(null);
  const [size, setSize] = useState(() => viewportOf(props.events));
  const [width, setWidth] = useState(0);
  const [failed, setFailed] = useState('');

  // The replayer, made once per recording.
  useEffect(() => {
    if (!root.current || props.events.length < 2) return;
    let r: Replayer;
    try {
      r = new props.lib.Replayer(props.events as never[], {
        root: root.current,
        speed: 1,
        skipInactive: true,
        mouseTail: false,
        showWarning: false,
        triggerFocus: false,
        UNSAFE_replayCanvas: false,
        pauseAnimation: true,
      });
    } catch (e) {
      setFailed(String(e));
      return;
    }
    player.current = r;
    let painted = false;
    r.on('fullsnapshot-rebuilded', () => {
      if (painted) return;
      painted = true;
      requestAnimationFrame(() => {
        const m = performance.mark('sl:first-frame');
        const open = performance.getEntriesByName('sl:player-open', 'mark');
        setFirstFrame(Math.round(m.startTime - (open.length ? open[open.length - 1].startTime : 0)));
      });
    });
    r.on('resize', (d) => {
      const dim = d as { width: number; height: number };
      if (dim && dim.width && dim.height) setSize({ width: dim.width, height: dim.height });
    });
    r.on('finish', () => setPlaying(false));
    r.on('skip-start', () => setSkipping(true));
    r.on('skip-end', () => setSkipping(false));
    setTotal(Math.max(r.getMetaData().totalTime, props.durationMS));
    r.pause(0);
    return () => {
      player.current = null;
      r.destroy();
    };
  }, [props.lib, props.events]);

  // The clock, while playing.
  useEffect(() => {
    if (!playing) return;
    let id = 0;
    const step = () => {
      if (player.current) setNow(player.current.getCurrentTime());
      id = requestAnimationFrame(step);
    };
    id = requestAnimationFrame(step);
    return () => cancelAnimationFrame(id);
  }, [playing]);

  // The recorded viewport, scaled to the card's width.
  useEffect(() => {
    const el = frame.current;
    if (!el) return;
    // Measured in the next frame: setting the height from the callback
    // would otherwise resize what is observed within the same frame.
    let id = 0;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(id);
      id = requestAnimationFrame(() => setWidth(el.clientWidth));
    });
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => {
      cancelAnimationFrame(id);
      ro.disconnect();
    };
  }, []);
  const scale = width ? Math.min(1, width / size.width) : 1;

  const seek = (ms: number) => {
    const r = player.current;
    if (!r) return;
    const t = Math.max(0, Math.min(ms, total));
    if (playing) r.play(t);
    else r.pause(t);
    setNow(t);
  };
  const toggle = () => {
    const r = player.current;
    if (!r) return;
    if (playing) {
      r.pause();
      setNow(r.getCurrentTime());
      setPlaying(false);
    } else {
      r.play(now >= total - 50 ? 0 : now);
      setPlaying(true);
    }
  };
  const setRate = (s: number) => {
    setSpeed(s);
    player.current?.setConfig({ speed: s });
  };
  const setSkipInactive = (on: boolean) => {
    setSkip(on);
    player.current?.setConfig({ skipInactive: on });
  };
  const marks = useMemo(() => props.timeline.filter((m) => m.type !== 'click' || props.timeline.length < 400), [props.timeline]);

  if (props.events.length < 2) return <p class="muted">This recording has no page to show yet: its first chunk has not arrived.</p>;
  return (
    <div
      class="player"
      data-state={playing ? 'playing' : 'paused'}
      data-time={Math.round(now)}
      data-first-frame-ms={firstFrame === null ? undefined : firstFrame}
      onKeyDown={(e) => {
        if (e.key === ' ' && (e.target as HTMLElement).tagName !== 'BUTTON' && (e.target as HTMLElement).tagName !== 'INPUT') {
          e.preventDefault();
          toggle();
        }
      }}
    >
      <div class="player-frame" ref={frame} style={{ height: Math.round(size.height * scale) + 'px' }}>
        <div class="player-root" ref={root} style={{ transform: `scale(${scale})`, width: size.width + 'px', height: size.height + 'px' }} />
        {skipping && <p class="player-skipping">Skipping inactivity…</p>}
        {failed && <p class="alert alert-error">The replayer could not start: {failed}</p>}
      </div>
      <Timeline now={now} total={total} marks={marks} onSeek={seek} />
      <div class="player-controls">
        <button type="button" class="btn btn-primary play" onClick={toggle} aria-label={playing ? 'Pause' : 'Play'}>
          {playing ? '❚❚ Pause' : '▶ Play'}
        </button>
        <span class="player-clock" aria-live="off">
          {clock(now)} / {clock(total)}
        </span>
        <div class="speeds" role="group" aria-label="Speed">
          {speeds.map((s) => (
            <button type="button" key={s} class={'btn btn-small' + (s === speed ? ' btn-on' : '')} aria-pressed={s === speed} onClick={() => setRate(s)}>
              {s}×
            </button>
          ))}
        </div>
        <div class="check">
          <input id="skip-inactive" type="checkbox" checked={skip} onChange={(e) => setSkipInactive(e.currentTarget.checked)} />
          <label for="skip-inactive">Skip inactivity</label>
        </div>
      </div>
      <EventList marks={props.timeline} now={now} onSeek={seek} />
    </div>
  );
}

/** The timeline as a list: what happened, when; each entry jumps there. */
function EventList(props: { marks: TimelineItem[]; now: number; onSeek: (ms: number) => void }) {
  if (!props.marks.length) return <p class="muted">The tracker saw no page view or event during this recording.</p>;
  return (
    <details class="player-events" open>
      <summary>Events ({props.marks.length})</summary>
      <ol>
        {props.marks.map((m, i) => (
          <li key={i} class={m.offset_ms <= props.now ? 'past' : ''}>
            <button type="button" class="link" onClick={() => props.onSeek(m.offset_ms)}>
              <span class="mono">{clock(m.offset_ms)}</span> <span class={'mark-dot mark-' + m.type} aria-hidden="true" /> {markLabel(m)}
            </button>
          </li>
        ))}
      </ol>
    </details>
  );
}
