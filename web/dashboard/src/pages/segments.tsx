// Saved segments with their live sizes.

import { get, sitePath } from '../api';
import { Empty, LoadError, Loading } from '../components/feedback';
import { Ago } from '../components/values';
import { formatCount } from '../format';
import { useLoad, useTitle } from '../hooks';
import { Link } from '../router';
import { allows, siteAccess, useSession, useSite } from '../session';
import type { SavedSegment } from '../types';

export function SegmentsPage() {
  const site = useSite();
  const { me } = useSession();
  useTitle('Segments — ' + site.name);
  const canWrite = allows(siteAccess(site, me.account.role), 'write');
  const list = useLoad((signal) => get<{ segments: SavedSegment[] }>(sitePath(site.id, '/segments?size=true'), { signal }), [site.id]);
  const base = `/s/${encodeURIComponent(site.id)}/segments`;
  return (
    <section>
      <div class="page-head">
        <h1>Segments</h1>
        {canWrite && (
          <Link href={base + '/new'} class="btn btn-primary">
            New segment
          </Link>
        )}
      </div>
      <p class="lead">Sizes are counted live, from every event received until now.</p>
      {list.error ? (
        <LoadError error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading label="Counting…" />
      ) : list.data.segments.length === 0 ? (
        <Empty title="No segments yet">
          <p>
            A segment is a group of users by who they are and what they do, like{' '}
            <code>plan = "pro" and active_days(7d) &gt;= 4</code>.
            {canWrite ? (
              <>
                {' '}
                <Link href={base + '/new'}>Build the first one</Link>.
              </>
            ) : null}
          </p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="num">
                  Users now
                </th>
                <th scope="col">Definition</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.data.segments.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link href={base + '/' + encodeURIComponent(s.id)}>{s.name}</Link>
                    {s.description && <div class="sub">{s.description}</div>}
                  </td>
                  <td class="num" data-size={s.size}>
                    {formatCount(s.size)}
                  </td>
                  <td class="mono clip" title={s.text}>
                    {s.text}
                  </td>
                  <td>
                    <Ago at={s.updated_at} />
                    <div class="sub">by {s.author}</div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
