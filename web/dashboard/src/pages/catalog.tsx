// The attribute catalog: every key with its type, how many users have it,
// sample values and refused values; admins change a key's type. Below,
// the messages the database refused (the quarantine).

import { useState } from 'preact/hooks';
import { ApiError, get, patch, query, sitePath } from '../api';
import { useCatalog } from '../catalog';
import { Dialog } from '../components/dialog';
import { Empty, LoadError, Loading } from '../components/feedback';
import { Field, FormError, useSubmit } from '../components/form';
import { Ago, TypeBadge } from '../components/values';
import { formatCount, formatTime } from '../format';
import { useLoad, useTitle } from '../hooks';
import { Link } from '../router';
import { allows, siteAccess, useSession, useSite } from '../session';
import type { AttrType, CatalogKey, QuarantinedMessage, Rejection } from '../types';

const types: AttrType[] = ['string', 'number', 'boolean', 'datetime'];

export function CatalogPage() {
  const site = useSite();
  const { me } = useSession();
  useTitle('Attributes — ' + site.name);
  const admin = allows(siteAccess(site, me.account.role), 'admin');
  const cat = useCatalog(site.id);
  const [changing, setChanging] = useState<CatalogKey | null>(null);
  const [rejKey, setRejKey] = useState('');
  return (
    <section>
      <div class="page-head">
        <h1>Attributes</h1>
      </div>
      <p class="lead">
        Each key's type is fixed by its first value. Values of another type are refused for that key only and listed under
        “Refused values”.
      </p>
      {cat.error ? (
        <LoadError error={cat.error} retry={cat.reload} />
      ) : !cat.data ? (
        <Loading />
      ) : cat.data.length === 0 ? (
        <Empty title="No attributes yet — install the snippet">
          <p>
            Attributes appear when users are identified: <code>sightline('identify', 'u_123', {'{'}plan: 'pro'{'}'})</code>.{' '}
            <Link href={`/s/${encodeURIComponent(site.id)}/settings`}>Install the tracker</Link>
          </p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Type</th>
                <th scope="col" class="num">
                  Users
                </th>
                <th scope="col">Sample values</th>
                <th scope="col" class="num">
                  Refused
                </th>
                <th scope="col">First seen</th>
                {admin && (
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {cat.data.map((k) => (
                <tr key={k.entity + ':' + k.key} data-key={k.key}>
                  <th scope="row">
                    {k.key}
                    {k.entity === 'group' && <span class="badge">company</span>}
                  </th>
                  <td>
                    <TypeBadge type={k.type} />
                  </td>
                  <td class="num">{formatCount(k.users)}</td>
                  <td class="samples">
                    {k.sample_values.length === 0 ? (
                      <span class="muted">—</span>
                    ) : (
                      k.sample_values.slice(0, 5).map((v) => (
                        <span class="sample" key={v} title={v}>
                          {k.type === 'datetime' ? formatTime(v) : v}
                        </span>
                      ))
                    )}
                  </td>
                  <td class="num">
                    {k.rejections > 0 ? (
                      <button type="button" class="link warn" onClick={() => setRejKey(k.key)} aria-label={`${k.rejections} refused values of ${k.key}`}>
                        {formatCount(k.rejections)}
                      </button>
                    ) : (
                      '0'
                    )}
                  </td>
                  <td>
                    <Ago at={k.first_seen} />
                  </td>
                  {admin && (
                    <td>
                      <button type="button" class="btn btn-small" onClick={() => setChanging(k)} aria-label={'Change the type of ' + k.key}>
                        Change type
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Rejections keyFilter={rejKey} setKeyFilter={setRejKey} keys={(cat.data || []).filter((k) => k.rejections > 0).map((k) => k.key)} />
      <Quarantine />
      {changing && (
        <ChangeType
          attr={changing}
          onClose={() => setChanging(null)}
          onDone={() => {
            setChanging(null);
            cat.reload();
          }}
        />
      )}
    </section>
  );
}

function Rejections(props: { keyFilter: string; setKeyFilter: (k: string) => void; keys: string[] }) {
  const site = useSite();
  const r = useLoad(
    (signal) => get<{ rejections: Rejection[] }>(sitePath(site.id, '/rejections') + query({ key: props.keyFilter, limit: 100 }), { signal }),
    [site.id, props.keyFilter],
  );
  return (
    <div class="card" id="rejections">
      <div class="card-head">
        <h2>Refused values</h2>
        <div class="field field-inline">
          <label for="rej-key">Key</label>
          <select id="rej-key" value={props.keyFilter} onChange={(e) => props.setKeyFilter(e.currentTarget.value)}>
            <option value="">All keys</option>
            {props.keys.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
      </div>
      {r.error ? (
        <LoadError error={r.error} retry={r.reload} />
      ) : !r.data ? (
        <Loading />
      ) : r.data.rejections.length === 0 ? (
        <p class="muted">No value was refused{props.keyFilter ? ' for ' + props.keyFilter : ''}.</p>
      ) : (
        <div class="table-wrap">
          <table class="compact">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Reason</th>
                <th scope="col">Value sent</th>
                <th scope="col">By</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {r.data.rejections.map((x) => (
                <tr key={x.message_id + x.key}>
                  <th scope="row">{x.key}</th>
                  <td>
                    expected {x.expected}, received {x.received}
                  </td>
                  <td class="mono break">{x.value}</td>
                  <td class="break">
                    {x.entity === 'user' && x.id ? (
                      <Link href={`/s/${encodeURIComponent(site.id)}/users/${encodeURIComponent(x.id)}`}>{x.id}</Link>
                    ) : (
                      x.id || '—'
                    )}
                  </td>
                  <td>{formatTime(x.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

// Quarantine lists acknowledged messages that the database refused when
// applying them. Ingestion checks every message first, so the list should
// stay empty; when it is not, each row says why and shows what was sent.
function Quarantine() {
  const site = useSite();
  const r = useLoad((signal) => get<{ messages: QuarantinedMessage[] }>(sitePath(site.id, '/quarantine') + query({ limit: 100 }), { signal }), [site.id]);
  return (
    <div class="card" id="quarantine">
      <div class="card-head">
        <h2>Quarantined messages</h2>
      </div>
      {r.error ? (
        <LoadError error={r.error} retry={r.reload} />
      ) : !r.data ? (
        <Loading />
      ) : r.data.messages.length === 0 ? (
        <p class="muted">No message was set aside: the database stored every message it was given.</p>
      ) : (
        <div class="table-wrap">
          <table class="compact">
            <thead>
              <tr>
                <th scope="col">Message</th>
                <th scope="col">Reason</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {r.data.messages.map((m) => (
                <tr key={m.id}>
                  <th scope="row" class="mono break">
                    {m.type} {m.message_id}
                  </th>
                  <td class="break">
                    {m.reason}
                    <details>
                      <summary>As logged</summary>
                      <pre class="mono break">{JSON.stringify(m.message, null, 2)}</pre>
                    </details>
                  </td>
                  <td>{formatTime(m.quarantined_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function ChangeType(props: { attr: CatalogKey; onClose: () => void; onDone: () => void }) {
  const site = useSite();
  const [to, setTo] = useState<AttrType>(props.attr.type === 'string' ? 'number' : 'string');
  const sub = useSubmit(async () => {
    try {
      await patch(sitePath(site.id, '/attributes/' + encodeURIComponent(props.attr.key)), {
        type: to,
        entity: props.attr.entity,
      });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409)
        throw new ApiError(409, e.code, `The type was not changed: ${e.message}. Every current value must convert; fix or unset the others first.`);
      throw e;
    }
    props.onDone();
  });
  return (
    <Dialog title={'Change the type of ' + props.attr.key} onClose={props.onClose}>
      <form onSubmit={sub.onSubmit}>
        <p>
          It is <TypeBadge type={props.attr.type} /> now, held by {formatCount(props.attr.users)} {props.attr.entity === 'group' ? 'companies' : 'users'}.
          Their current values are converted; if any cannot be, nothing changes.
        </p>
        <Field label="New type">
          {(p) => (
            <select {...p} value={to} onChange={(e) => setTo(e.currentTarget.value as AttrType)} autoFocus>
              {types
                .filter((t) => t !== props.attr.type)
                .map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
            </select>
          )}
        </Field>
        <FormError error={sub.error} />
        <div class="actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={sub.busy}>
            Change to {to}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
