// A segment: the builder and the text editor (switching between them
// through the preview endpoint), the live size and sample members as you
// edit, save / rename / delete, CSV export and the size trend.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, del, get, isAbort, post, put, sitePath } from '../api';
import { useCatalog, userKeys } from '../catalog';
import { useTrackEvents } from '../events';
import { LineChart } from '../components/chart';
import { Confirm } from '../components/dialog';
import { ExportCSV } from '../components/export';
import { LoadError, Loading } from '../components/feedback';
import { Field, fieldError, FormError, messageOf, useSubmit } from '../components/form';
import { Value } from '../components/values';
import { formatCount } from '../format';
import { useDebounced, useLoad, useTitle } from '../hooks';
import type { PageProps } from '../router';
import { Link, navigate, useLocation } from '../router';
import { asRoot, Group, leafCount } from '../segments/builder';
import { identifiedOnly, prune, withIdentifiedOnly } from '../segments/model';
import { TextEditor } from '../segments/text';
import { allows, siteAccess, useSession, useSite } from '../session';
import type { Condition, Preview, Problem, SavedSegment } from '../types';
import { recordingsHref } from './recordings';
import { profileHref } from './users';

type Mode = 'builder' | 'text';

export function SegmentEditorPage(props: PageProps) {
  const site = useSite();
  const segID = props.params.seg;
  const seg = useLoad(
    (signal) => (segID ? get<SavedSegment>(sitePath(site.id, '/segments/' + encodeURIComponent(segID)), { signal }) : Promise.resolve(null)),
    [site.id, segID],
  );
  if (seg.error)
    return (
      <section>
        <h1>Segment</h1>
        <LoadError error={seg.error} retry={seg.reload} />
      </section>
    );
  if (seg.data === undefined) return <Loading />;
  return <Editor saved={seg.data} key={segID || 'new'} />;
}

function Editor(props: { saved: SavedSegment | null }) {
  const site = useSite();
  const { me } = useSession();
  const saved = props.saved;
  const canWrite = allows(siteAccess(site, me.account.role), 'write');
  useTitle((saved ? saved.name : 'New segment') + ' — ' + site.name);
  const base = `/s/${encodeURIComponent(site.id)}/segments`;

  // A new segment may come written out in the address (?text=, ?name=):
  // the users behind a comparison's row, say, listed before saving.
  const { query: q } = useLocation();
  const given = saved ? '' : q.get('text') || '';
  const [name, setName] = useState(saved?.name || (given && q.get('name')) || '');
  const [description, setDescription] = useState(saved?.description || '');
  const [mode, setMode] = useState<Mode>(given ? 'text' : 'builder');
  const [def, setDef] = useState<Condition>(asRoot(saved?.definition));
  const [text, setText] = useState(saved?.text || given);
  const [switchError, setSwitchError] = useState('');
  const cat = useCatalog(site.id);
  const events = useTrackEvents(site.id);
  const list = useLoad((signal) => get<{ segments: SavedSegment[] }>(sitePath(site.id, '/segments'), { signal }), [site.id]);

  // The live preview of what is being edited. In the builder it counts the
  // finished conditions only: one a person is still writing is left out
  // (and said to be), rather than sent to fail.
  const pruned = useMemo(() => prune(def), [def]);
  const skipped = mode === 'builder' ? pruned.skipped.length : 0;
  const body = useMemo(() => {
    if (mode === 'text') return text.trim() ? { text } : null;
    return pruned.def ? { definition: pruned.def } : null;
  }, [mode, text, pruned]);
  const key = JSON.stringify(body);
  const debounced = useDebounced(key, 300);
  // How to map the server's paths back, for the body last sent.
  const sent = useRef<{ key: string; original: (p: string) => string }>({ key: '', original: (p) => p });
  if (sent.current.key !== key) sent.current = { key, original: mode === 'builder' ? pruned.original : (p: string) => p };
  const [preview, setPreview] = useState<{ key: string; data?: Preview; problems: Problem[]; error?: unknown } | null>(null);
  const [pending, setPending] = useState(false);
  useEffect(() => {
    const b = debounced === 'null' ? null : JSON.parse(debounced);
    if (!b) {
      setPreview(null);
      setPending(false);
      return;
    }
    const original = sent.current.key === debounced ? sent.current.original : (p: string) => p;
    const back = (list: Problem[]) => list.map((p) => (p.path !== undefined ? { ...p, path: original(p.path) } : p));
    const ctl = new AbortController();
    setPending(true);
    post<Preview>(sitePath(site.id, '/segments/preview'), b, { signal: ctl.signal }).then(
      (data) => {
        setPreview({ key: debounced, data: { ...data, warnings: back(data.warnings || []) }, problems: [] });
        setPending(false);
      },
      (e) => {
        if (isAbort(e)) return;
        const problems = e instanceof ApiError && e.code === 'invalid_segment' ? back(e.details || [{ message: e.message }]) : [];
        setPreview({ key: debounced, problems, error: problems.length ? undefined : e });
        setPending(false);
      },
    );
    return () => ctl.abort();
  }, [debounced, site.id]);
  const stale = pending || debounced !== key;
  const shown = preview?.key === debounced ? preview : null;
  // The key attributes the server picked (the members show them), the
  // export's default columns when the site chose none.
  const [keyAttrs, setKeyAttrs] = useState<string[]>([]);
  useEffect(() => {
    if (shown?.data?.members.length) setKeyAttrs(Array.from(new Set(shown.data.members.flatMap((m) => Object.keys(m.attributes)))));
  }, [shown]);
  const problems = preview && preview.key === debounced ? preview.problems : [];
  const warnings = (preview && preview.key === debounced && preview.data?.warnings) || [];
  // After an attempt to save (or to see the text), every problem shows,
  // touched or not.
  const [showAll, setShowAll] = useState(false);
  const unfinished = () => {
    const n = pruned.skipped.length;
    return n === 1 ? 'One condition is not finished: fill it in or remove it.' : `${n} conditions are not finished: fill them in or remove them.`;
  };

  const switchTo = async (to: Mode) => {
    if (to === mode) return;
    setSwitchError('');
    if (to === 'text') {
      if (pruned.skipped.length > 0) {
        setShowAll(true);
        setSwitchError(unfinished() + ' Then the text can show them.');
        return;
      }
      if (leafCount(def) === 0) {
        setText('');
        setMode('text');
        return;
      }
      try {
        const r = await post<Preview>(sitePath(site.id, '/segments/preview?sample=1'), { definition: def });
        setText(r.text);
        setMode('text');
      } catch (e) {
        setSwitchError('The builder has problems (shown beside the conditions); fix them to see the text. ' + (e instanceof ApiError && e.code === 'invalid_segment' ? '' : messageOf(e)));
      }
    } else {
      if (!text.trim()) {
        setDef(asRoot(null));
        setMode('builder');
        return;
      }
      try {
        const r = await post<Preview>(sitePath(site.id, '/segments/preview?sample=1'), { text });
        setDef(asRoot(r.definition));
        setMode('builder');
      } catch (e) {
        setSwitchError('The text has problems (listed under it); fix them to open it in the builder. ' + (e instanceof ApiError && e.code === 'invalid_segment' ? '' : messageOf(e)));
      }
    }
  };

  const [savedNote, setSavedNote] = useState('');
  const sub = useSubmit(async () => {
    if (mode === 'builder' && pruned.skipped.length > 0) {
      setShowAll(true);
      throw new Error(unfinished());
    }
    const payload = { name, description, author: me.account.name || me.account.email, ...(mode === 'text' ? { text } : { definition: def }) };
    try {
      if (saved) {
        const s = await put<SavedSegment>(sitePath(site.id, '/segments/' + encodeURIComponent(saved.id)), payload);
        setSavedNote('Saved. ' + formatCount(s.size) + ' users now.');
      } else {
        const s = await post<SavedSegment>(sitePath(site.id, '/segments'), payload);
        navigate(base + '/' + encodeURIComponent(s.id), true);
      }
    } catch (e) {
      if (e instanceof ApiError && e.code === 'invalid_segment') throw new ApiError(400, e.code, 'The segment has problems: see them beside the conditions.');
      throw e;
    }
  });
  useEffect(() => setSavedNote(''), [name, description, key]);

  if (!canWrite && !saved)
    return (
      <section>
        <h1>New segment</h1>
        <p>Your access to this site is read-only: ask an admin to make you a member to build segments.</p>
      </section>
    );

  const ctx = { catalog: cat.data || [], events: events.data || [], segments: list.data?.segments || [], selfID: saved?.id, disabled: !canWrite, showAll };
  return (
    <section class="segment-editor">
      <p class="crumbs">
        <Link href={base}>Segments</Link> /
      </p>
      <div class="page-head">
        <h1>{saved ? saved.name : 'New segment'}</h1>
        {saved && (
          <div class="head-actions">
            <Link class="btn" href={recordingsHref(site.id, { segment: saved.id })}>
              Watch recordings of this segment
            </Link>
            <ExportCSV
              href={sitePath(site.id, '/segments/' + encodeURIComponent(saved.id) + '/export?format=csv')}
              fields={[
                { key: 'user_id', label: 'user ID' },
                { key: 'key', label: 'user key (tells anonymous visitors apart)' },
              ]}
              attributes={userKeys(cat.data).map((k) => k.key)}
              defaults={['user_id', ...(site.key_attributes?.length ? site.key_attributes : keyAttrs)]}
              storageKey={'sl.export.segment.' + site.id}
            />
            {canWrite && <DeleteSegment seg={saved} />}
          </div>
        )}
      </div>
      <div class="editor-grid">
        <form class="editor-main" onSubmit={sub.onSubmit} noValidate>
          {canWrite ? (
            <div class="card">
              <Field label="Name" error={fieldError(sub.error, 'name')}>
                {(p) => <input {...p} value={name} onInput={(e) => setName(e.currentTarget.value)} required placeholder="Power users" />}
              </Field>
              <Field label="Description (optional)" error={fieldError(sub.error, 'description')}>
                {(p) => <input {...p} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />}
              </Field>
            </div>
          ) : (
            saved?.description && <p class="lead">{saved.description}</p>
          )}
          <div class="card">
            {canWrite ? (
              <>
                <div class="tabs" role="tablist" aria-label="Edit as">
                  {(['builder', 'text'] as Mode[]).map((m) => (
                    <button
                      key={m}
                      type="button"
                      role="tab"
                      id={'tab-' + m}
                      aria-selected={mode === m}
                      aria-controls="definition-panel"
                      class={'tab' + (mode === m ? ' tab-on' : '')}
                      onClick={() => void switchTo(m)}
                    >
                      {m === 'builder' ? 'Builder' : 'Text'}
                    </button>
                  ))}
                </div>
                {switchError && <p class="alert alert-error">{switchError}</p>}
                <div id="definition-panel" role="tabpanel" aria-labelledby={'tab-' + mode}>
                  {mode === 'builder' ? (
                    <>
                      <div class="check identified-only">
                        <input id="identified-only" type="checkbox" checked={identifiedOnly(def)} onChange={(e) => setDef(withIdentifiedOnly(def, e.currentTarget.checked))} />
                        <label for="identified-only">Identified users only</label>
                        <span class="hint">leaves out visitors known only by an anonymous ID (adds the condition identified())</span>
                      </div>
                      <Group root c={def} set={setDef} path="" problems={problems} warnings={warnings} ctx={ctx} />
                    </>
                  ) : (
                    <>
                      <label class="label" for="segment-text">
                        Definition
                      </label>
                      <TextEditor id="segment-text" value={text} onChange={setText} problems={problems} />
                      {warnings.length > 0 && (
                        <ul class="warnings" role="status">
                          {warnings.map((w, i) => (
                            <li key={i}>
                              {w.line ? `line ${w.line}, column ${w.column || 1}: ` : ''}
                              {w.message}
                            </li>
                          ))}
                        </ul>
                      )}
                      <p class="hint">
                        Like <code>plan = "pro" and active_days(7d) &gt;= 4 and did("export", 30d)</code>. The language is described
                        in{' '}
                        <a href="/docs/segments.md#the-text-form" target="_blank" rel="noopener">
                          the segments guide
                        </a>
                        .
                      </p>
                    </>
                  )}
                </div>
              </>
            ) : (
              <>
                <h2>Definition</h2>
                <pre class="mono definition">{saved?.text}</pre>
              </>
            )}
          </div>
          {canWrite && (
            <>
              <FormError error={sub.error} fields={['name', 'description']} />
              {savedNote && (
                <p class="alert alert-ok" role="status">
                  {savedNote}
                </p>
              )}
              <div class="actions actions-left">
                <button type="submit" class="btn btn-primary" disabled={sub.busy}>
                  {saved ? 'Save' : 'Save segment'}
                </button>
              </div>
            </>
          )}
        </form>
        <aside class="editor-side">
          <LivePreview preview={shown} stale={stale} empty={!body} skipped={skipped} />
          {saved && <Trend seg={saved} />}
        </aside>
        <div class="editor-members">
          <Members preview={shown} stale={stale} />
        </div>
      </div>
    </section>
  );
}

type PreviewState = { data?: Preview; problems: Problem[]; error?: unknown } | null;

/** The live size of what is being edited, and what it leaves out. */
function LivePreview(props: { preview: PreviewState; stale: boolean; empty: boolean; skipped: number }) {
  const p = props.preview;
  const n = props.skipped;
  return (
    <div class={'card preview' + (props.stale ? ' stale' : '')} aria-busy={props.stale}>
      <h2>Who matches now</h2>
      <div class="size" aria-live="polite">
        {props.empty ? (
          <p class="muted">{n > 0 ? 'Finish the condition to see who matches.' : 'Add a condition to see who matches.'}</p>
        ) : p?.data ? (
          <>
            <span class="size-number" id="live-size" data-size={p.data.size}>
              {formatCount(p.data.size)}
            </span>{' '}
            {p.data.size === 1 ? 'user' : 'users'} <span class="muted">· counted in {p.data.took_ms} ms</span>
          </>
        ) : p && p.problems.length ? (
          <p class="warn">
            {p.problems.length === 1 ? 'One problem' : p.problems.length + ' problems'} to fix before counting.
          </p>
        ) : p?.error ? (
          <p class="alert alert-error">{messageOf(p.error)}</p>
        ) : (
          <p class="muted">Counting…</p>
        )}
      </div>
      {!props.empty && n > 0 && (
        <p class="note" id="preview-skipped" data-skipped={n}>
          Not counting {n === 1 ? 'one unfinished condition' : n + ' unfinished conditions'} yet.
        </p>
      )}
      {p?.data && p.data.size === 0 && <p class="muted">No user matches right now.</p>}
    </div>
  );
}

/** A sample of the members, with their key attributes. */
function Members(props: { preview: PreviewState; stale: boolean }) {
  const site = useSite();
  const p = props.preview;
  if (!p?.data || p.data.members.length === 0) return null;
  const attrs = Array.from(new Set(p.data.members.flatMap((m) => Object.keys(m.attributes))));
  return (
    <div class={'card members' + (props.stale ? ' stale' : '')}>
      <h2>Some of them</h2>
      <div class="table-wrap">
        <table class="compact sample-members">
          <thead>
            <tr>
              <th scope="col">User</th>
              {attrs.map((a) => (
                <th scope="col" key={a}>
                  {a}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {p.data.members.map((m) => (
              <tr key={m.key}>
                <td class="user-id">{m.user_id ? <Link href={profileHref(site.id, m.user_id)}>{m.user_id}</Link> : <span class="muted">anonymous</span>}</td>
                {attrs.map((a) => (
                  <td key={a}>{m.attributes[a] ? <Value value={m.attributes[a].value} type={m.attributes[a].type} /> : '—'}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Trend(props: { seg: SavedSegment }) {
  const site = useSite();
  const t = useLoad(
    (signal) =>
      get<{ points: { date: string; size: number }[] }>(sitePath(site.id, '/segments/' + encodeURIComponent(props.seg.id) + '/trend?days=90'), { signal }),
    [site.id, props.seg.id],
  );
  const points = useMemo(() => (t.data ? t.data.points.map((p) => ({ date: p.date, value: p.size })) : []), [t.data]);
  if (t.error && (t.error.status === 404 || t.error.status === 405)) return null;
  return (
    <div class="card">
      <h2>Size over 90 days</h2>
      {t.error ? <LoadError error={t.error} retry={t.reload} /> : !t.data ? <Loading /> : points.length ? <LineChart points={points} label="Users in the segment" /> : <p class="muted">No history yet.</p>}
    </div>
  );
}

function DeleteSegment(props: { seg: SavedSegment }) {
  const site = useSite();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await del(sitePath(site.id, '/segments/' + encodeURIComponent(props.seg.id)));
      navigate(`/s/${encodeURIComponent(site.id)}/segments`, true);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class="btn btn-danger" ref={opener} onClick={() => setAsking(true)}>
        Delete
      </button>
      {asking && (
        <Confirm title={'Delete ' + props.seg.name + '?'} confirm="Delete" danger busy={busy} onConfirm={remove} onClose={() => setAsking(false)}>
          <p>The segment is deleted for everyone. Its users are not affected.</p>
          {error ? <p class="alert alert-error">{messageOf(error)}</p> : null}
        </Confirm>
      )}
    </>
  );
}
