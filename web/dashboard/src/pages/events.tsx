// The event catalog: every event name the site received, with how many,
// by how many users, first and last seen, and which way they arrived;
// each event's properties with their types and sample values.

import { useMemo, useState } from 'preact/hooks';
import { get, sitePath } from '../api';
import { Empty, LoadError, Loading } from '../components/feedback';
import { Ago, TypeBadge } from '../components/values';
import { ago, formatCount } from '../format';
import { useLoad, useTitle } from '../hooks';
import { Link } from '../router';
import { useSite } from '../session';
import type { EventInfo } from '../types';

interface Catalog {
  events: EventInfo[];
  users_counted_at?: string;
  users_approximate?: boolean;
}

const kindLabels: Record<string, string> = { track: 'event', page: 'page view', screen: 'screen view' };

export function EventsPage() {
  const site = useSite();
  useTitle('Events — ' + site.name);
  const cat = useLoad((signal) => get<Catalog>(sitePath(site.id, '/events?properties=true'), { signal }), [site.id]);
  const [kind, setKind] = useState('track');
  const [filter, setFilter] = useState('');
  const [open, setOpen] = useState<Set<string>>(new Set());
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return (cat.data?.events || []).filter((e) => (!kind || e.kind === kind) && (!f || e.name.toLowerCase().includes(f)));
  }, [cat.data, kind, filter]);
  const toggle = (id: string) => {
    const next = new Set(open);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setOpen(next);
  };
  return (
    <section>
      <div class="page-head">
        <h1>Events</h1>
      </div>
      <p class="lead">
        Every event the site received. Segments, recordings and survey triggers match a name exactly, case included: pick names from
        here (their fields complete them).
      </p>
      {cat.error ? (
        <LoadError error={cat.error} retry={cat.reload} />
      ) : !cat.data ? (
        <Loading />
      ) : cat.data.events.length === 0 ? (
        <Empty title="No events yet — install the snippet">
          <p>
            Events appear as they arrive: <code>sightline('track', 'Export', {'{'}format: 'csv'{'}'})</code>, page views, or your servers'
            Segment calls. <Link href={`/s/${encodeURIComponent(site.id)}/settings`}>Install the tracker</Link>
          </p>
        </Empty>
      ) : (
        <>
          <div class="filters-inline">
            <div class="field field-inline">
              <label for="ev-kind">Show</label>
              <select id="ev-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
                <option value="track">Events</option>
                <option value="page">Page views</option>
                <option value="screen">Screen views</option>
                <option value="">Everything</option>
              </select>
            </div>
            <div class="field field-inline">
              <label for="ev-filter">Name contains</label>
              <input id="ev-filter" type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
            </div>
          </div>
          <div class="table-wrap">
            <table class="event-catalog">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" class="num">
                    Count
                  </th>
                  <th scope="col" class="num">
                    Users
                  </th>
                  <th scope="col">First seen</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Sent by</th>
                  <th scope="col">Properties</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((e) => {
                  const id = e.kind + ':' + e.name;
                  const props = e.properties || [];
                  const isOpen = open.has(id);
                  return [
                    <tr key={id} data-event={e.name} data-kind={e.kind}>
                      <th scope="row" class="break">
                        {e.name || <span class="muted">(no name)</span>}
                        {e.kind !== 'track' && <span class="badge">{kindLabels[e.kind]}</span>}
                      </th>
                      <td class="num">{formatCount(e.count)}</td>
                      <td class="num">{e.users === undefined ? '—' : formatCount(e.users)}</td>
                      <td>
                        <Ago at={e.first_seen} />
                      </td>
                      <td>
                        <Ago at={e.last_seen} />
                      </td>
                      <td>{e.sources.map((s) => (s === 'tracker' ? 'browser tracker' : 'server')).join(', ')}</td>
                      <td>
                        {props.length === 0 ? (
                          <span class="muted">none</span>
                        ) : (
                          <button type="button" class="link" aria-expanded={isOpen} aria-controls={'props-' + id} onClick={() => toggle(id)}>
                            {isOpen ? 'Hide' : 'Show'} {props.length === 1 ? '1 property' : props.length + ' properties'}
                          </button>
                        )}
                      </td>
                    </tr>,
                    isOpen && (
                      <tr key={id + ':props'} id={'props-' + id} class="subrow">
                        <td colSpan={7}>
                          <Properties e={e} />
                        </td>
                      </tr>
                    ),
                  ];
                })}
              </tbody>
            </table>
          </div>
          {shown.length === 0 && <p class="muted">No event matches.</p>}
          {cat.data.users_counted_at && (
            <p class="hint">
              Users were {cat.data.users_approximate ? 'estimated (within about 2%)' : 'counted'} from the stored events{' '}
              {ago(cat.data.users_counted_at)}; counts and times include every event received.
            </p>
          )}
        </>
      )}
    </section>
  );
}

function Properties(props: { e: EventInfo }) {
  const list = (props.e.properties || []).slice().sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  return (
    <table class="compact properties">
      <caption class="sr-only">Properties of {props.e.name}</caption>
      <thead>
        <tr>
          <th scope="col">Property</th>
          <th scope="col">Type</th>
          <th scope="col" class="num">
            In events
          </th>
          <th scope="col">Sample values</th>
        </tr>
      </thead>
      <tbody>
        {list.map((p) => (
          <tr key={p.key} data-key={p.key}>
            <th scope="row" class="mono break">
              {p.key}
            </th>
            <td>
              {p.types.map((t) => (
                <TypeBadge key={t} type={t} />
              ))}
            </td>
            <td class="num" title={formatCount(p.count) + ' of ' + formatCount(props.e.count)}>
              {Math.round((100 * p.count) / Math.max(1, props.e.count))}%
            </td>
            <td class="samples">
              {p.sample_values.length === 0 ? (
                <span class="muted">—</span>
              ) : (
                p.sample_values.map((v) => (
                  <span class="sample" key={v} title={v}>
                    {v}
                  </span>
                ))
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
