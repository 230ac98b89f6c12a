// The users list: search by ID prefix or by an attribute's value, choose
// attribute columns (remembered per site), page through.

import { useEffect, useState } from 'preact/hooks';
import { get, query, sitePath } from '../api';
import { useCatalog, userKeys } from '../catalog';
import { Empty, LoadError, Loading } from '../components/feedback';
import { Ago, Value } from '../components/values';
import { useLoad, useStored, useTitle } from '../hooks';
import { Link, setQuery, useLocation } from '../router';
import { useSite } from '../session';
import type { Attr, UserRow } from '../types';

const pageSize = 50;

export function UsersPage() {
  const site = useSite();
  useTitle('Users — ' + site.name);
  const { query: q } = useLocation();
  const cat = useCatalog(site.id);
  const keys = userKeys(cat.data);
  const [columns, setColumns] = useStored<string[] | null>('sl.columns.' + site.id, null);
  const shown = (columns ?? keys.slice(0, 3).map((k) => k.key)).filter((c) => !cat.data || keys.some((k) => k.key === c));

  const prefix = q.get('prefix') || '';
  const attr = q.get('attr') || '';
  const value = q.get('value') || '';
  const [mode, setMode] = useState<'id' | 'attr'>(attr ? 'attr' : 'id');
  const [formPrefix, setFormPrefix] = useState(prefix);
  const [formAttr, setFormAttr] = useState(attr);
  const [formValue, setFormValue] = useState(value);
  const [cursors, setCursors] = useState<string[]>(['']);
  const after = cursors[cursors.length - 1];
  useEffect(() => setCursors(['']), [prefix, attr, value]);

  // Until the catalog says which columns to show by default, wait for it
  // rather than load the page twice.
  const ready = columns !== null || !!cat.data || !!cat.error;
  const list = useLoad(
    (signal) =>
      !ready ? new Promise<never>(() => {}) : get<{ users: UserRow[]; next_after: string }>(
        sitePath(site.id, '/users') +
          query({
            prefix: attr ? undefined : prefix,
            attr: attr || undefined,
            value: attr ? value : undefined,
            limit: pageSize,
            after,
            attributes: shown.join(',') || undefined,
          }),
        { signal },
      ),
    [site.id, prefix, attr, value, after, shown.join(','), ready],
  );

  // The placeholder shows an ID of this site (the first one listed), so
  // that it reads like the IDs to type.
  const [example, setExample] = useState('');
  const first = list.data?.users[0]?.user_id;
  useEffect(() => {
    if (first && !example) setExample(first);
  }, [first, example]);

  const search = (e: Event) => {
    e.preventDefault();
    if (mode === 'id') setQuery({ prefix: formPrefix.trim(), attr: undefined, value: undefined });
    else setQuery({ prefix: undefined, attr: formAttr, value: formValue });
  };
  const searching = !!(prefix || attr);
  const toggleColumn = (k: string) => setColumns(shown.includes(k) ? shown.filter((c) => c !== k) : [...shown, k]);

  return (
    <section>
      <div class="page-head">
        <h1>Users</h1>
      </div>
      <form class="toolbar" onSubmit={search} role="search" aria-label="Search users">
        <div class="field field-inline">
          <label for="search-mode">Search by</label>
          <select id="search-mode" value={mode} onChange={(e) => setMode(e.currentTarget.value as 'id' | 'attr')}>
            <option value="id">User ID</option>
            <option value="attr">Attribute</option>
          </select>
        </div>
        {mode === 'id' ? (
          <div class="field field-inline grow">
            <label for="search-prefix">User ID starts with</label>
            <input id="search-prefix" type="search" value={formPrefix} onInput={(e) => setFormPrefix(e.currentTarget.value)} placeholder={example ? 'e.g. ' + example : 'The start of an ID'} />
          </div>
        ) : (
          <>
            <div class="field field-inline">
              <label for="search-attr">Attribute</label>
              <select id="search-attr" value={formAttr} onChange={(e) => setFormAttr(e.currentTarget.value)} required>
                <option value="">Choose…</option>
                {keys.map((k) => (
                  <option value={k.key} key={k.key}>
                    {k.key} ({k.type})
                  </option>
                ))}
              </select>
            </div>
            <div class="field field-inline grow">
              <label for="search-value">is</label>
              <input id="search-value" value={formValue} onInput={(e) => setFormValue(e.currentTarget.value)} placeholder="pro" />
            </div>
          </>
        )}
        <button type="submit" class="btn btn-primary">
          Search
        </button>
        {searching && (
          <button
            type="button"
            class="btn"
            onClick={() => {
              setFormPrefix('');
              setFormValue('');
              setQuery({ prefix: undefined, attr: undefined, value: undefined });
            }}
          >
            Clear
          </button>
        )}
        <details class="columns">
          <summary class="btn">Columns ({shown.length})</summary>
          <fieldset class="popover">
            <legend>Attributes to show</legend>
            {keys.length === 0 && <p class="muted">No attributes yet.</p>}
            {keys.map((k) => (
              <div class="check" key={k.key}>
                <input id={'col-' + k.key} type="checkbox" checked={shown.includes(k.key)} onChange={() => toggleColumn(k.key)} />
                <label for={'col-' + k.key}>{k.key}</label>
              </div>
            ))}
          </fieldset>
        </details>
      </form>
      {list.error ? (
        <LoadError error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : list.data.users.length === 0 ? (
        searching || cursors.length > 1 ? (
          <Empty title="No user matches">
            <p>Try a shorter prefix, or another attribute value (values are compared whole, as text).</p>
          </Empty>
        ) : (
          <Empty title="No users yet — install the snippet">
            <p>
              Users appear here once your pages send data. <Link href={`/s/${encodeURIComponent(site.id)}/settings`}>Install the tracker</Link> and
              call <code>sightline('identify', userId, attributes)</code> when someone signs in.
            </p>
          </Empty>
        )
      ) : (
        <>
          <div class="table-wrap">
            <table class={list.loading ? 'stale' : ''}>
              <thead>
                <tr>
                  <th scope="col">User ID</th>
                  <th scope="col">Last seen</th>
                  {shown.map((c) => (
                    <th scope="col" key={c}>
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {list.data.users.map((u) => (
                  <tr key={u.key}>
                    <td>
                      <Link href={profileHref(site.id, u.user_id)}>{u.user_id}</Link>
                    </td>
                    <td>{u.last_seen ? <Ago at={u.last_seen} /> : <span class="muted">—</span>}</td>
                    {shown.map((c) => {
                      const a = u.attributes?.[c];
                      return <td key={c}>{a ? <Value value={a.value} type={a.type} /> : <span class="muted">—</span>}</td>;
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages">
            <button type="button" class="btn" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous
            </button>
            <span>Page {cursors.length}</span>
            <button
              type="button"
              class="btn"
              disabled={!list.data.next_after}
              onClick={() => setCursors([...cursors, list.data!.next_after])}
            >
              Next
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

/** The profile page of a user ID. */
export function profileHref(site: string, userID: string, anonymous = false): string {
  return `/s/${encodeURIComponent(site)}/users/${encodeURIComponent(userID)}${anonymous ? '?kind=anonymous' : ''}`;
}

/**
 * What names a person among their attributes, as identify calls usually
 * send it (Segment's traits included): a name and an email, each empty
 * when unknown.
 */
export function personOf(attrs: Record<string, Attr> | undefined): { name: string; email: string } {
  const text = (k: string) => {
    const a = attrs?.[k];
    return a && typeof a.value === 'string' ? a.value.trim() : '';
  };
  const first = text('first_name') || text('firstName');
  const last = text('last_name') || text('lastName');
  const name = text('name') || text('full_name') || text('display_name') || [first, last].filter(Boolean).join(' ') || text('username');
  return { name, email: text('email') || text('email_address') };
}
