// The audit log (owners): who did what and when — sign-ins, token and key
// changes, role and type changes, deletions, exports, imports, settings.

import { useState } from 'preact/hooks';
import { get, query } from '../api';
import { Empty, LoadError, Loading } from '../components/feedback';
import { formatTime } from '../format';
import { useLoad, useTitle } from '../hooks';
import { useSession } from '../session';

interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  site?: string;
  status: number;
}

interface AuditPage {
  entries: AuditEntry[];
  next_before: string;
  kept_days: number;
}

export function AuditPage() {
  useTitle('Audit log');
  const { me } = useSession();
  const [before, setBefore] = useState<string[]>([]);
  const cursor = before[before.length - 1];
  const page = useLoad((signal) => get<AuditPage>('/api/v1/audit' + query({ limit: 100, before: cursor }), { signal }), [cursor]);
  if (me.account.role !== 'owner')
    return (
      <section>
        <h1>Audit log</h1>
        <Empty title="Owners only">
          <p>Only owners read the audit log.</p>
        </Empty>
      </section>
    );
  if (page.error) return <LoadError error={page.error} retry={page.reload} />;
  if (!page.data) return <Loading />;
  const p = page.data;
  return (
    <section>
      <div class="page-head">
        <h1>Audit log</h1>
      </div>
      <p class="hint">
        Every administrative request, newest first; kept {p.kept_days} days. User IDs in addresses are not kept.
      </p>
      {p.entries.length === 0 ? (
        <Empty title="Nothing yet" />
      ) : (
        <table class="table audit-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>What</th>
              <th>Site</th>
              <th>Result</th>
            </tr>
          </thead>
          <tbody>
            {p.entries.map((e) => (
              <tr key={e.id}>
                <td>{formatTime(e.at)}</td>
                <td class="break">{e.actor}</td>
                <td class="mono break">{e.action}</td>
                <td class="mono">{e.site || '—'}</td>
                <td>{e.status < 400 ? 'done' : 'refused (' + e.status + ')'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="actions">
        {before.length > 0 && (
          <button type="button" class="btn" onClick={() => setBefore(before.slice(0, -1))}>
            Newer
          </button>
        )}
        {p.next_before && (
          <button type="button" class="btn" onClick={() => setBefore([...before, p.next_before])}>
            Older
          </button>
        )}
      </div>
    </section>
  );
}
