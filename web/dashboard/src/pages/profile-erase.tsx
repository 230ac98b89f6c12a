// Deleting a user everywhere from their profile (an erasure request):
// the admin types the user's ID to confirm, may suppress the IDs' later
// messages, and follows the deletion job until its receipt.

import { useEffect, useState } from 'preact/hooks';
import { del, get, query } from '../api';
import { Dialog } from '../components/dialog';
import { messageOf } from '../components/form';
import { formatCount } from '../format';
import { Link } from '../router';

interface Receipt {
  identities: number;
  deleted: Record<string, number>;
  log_segments: number;
  rewritten: boolean;
  suppressed: boolean;
}

interface DeletionJob {
  id: string;
  status: 'queued' | 'scrubbing' | 'done' | 'failed';
  error?: string;
  receipt?: Receipt;
}

const statusText: Record<DeletionJob['status'], string> = {
  queued: 'Queued…',
  scrubbing: 'Data deleted; clearing it from the files on disk…',
  done: 'Deleted.',
  failed: 'The deletion failed.',
};

/** The profile's "Delete user" button and its dialog. */
export function DeleteUser(props: { sitePath: string; siteID: string; id: string; anonymous: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" class="btn btn-danger" onClick={() => setOpen(true)}>
        Delete user…
      </button>
      {open && <DeleteDialog {...props} onClose={() => setOpen(false)} />}
    </>
  );
}

function DeleteDialog(props: { sitePath: string; siteID: string; id: string; anonymous: boolean; onClose: () => void }) {
  const [typed, setTyped] = useState('');
  const [suppress, setSuppress] = useState(false);
  const [job, setJob] = useState<DeletionJob | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const matches = typed.trim() === props.id;

  useEffect(() => {
    if (!job || job.status === 'done' || job.status === 'failed') return;
    const t = setTimeout(async () => {
      try {
        setJob(await get<DeletionJob>(props.sitePath + '/deletions/' + encodeURIComponent(job.id)));
      } catch (e) {
        setError(messageOf(e));
      }
    }, 500);
    return () => clearTimeout(t);
  }, [job]);

  const start = async () => {
    setBusy(true);
    setError('');
    try {
      const path =
        props.sitePath +
        '/users/' +
        encodeURIComponent(props.id) +
        query({ kind: props.anonymous ? 'anonymous' : undefined, suppress: suppress ? 'true' : undefined });
      setJob(await del<DeletionJob>(path));
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  if (job) {
    const r = job.receipt;
    return (
      <Dialog title={'Deleting ' + props.id} onClose={props.onClose}>
        <p role="status" class="deletion-status">
          {statusText[job.status]}
        </p>
        {job.error && <p class="field-error">{job.error}</p>}
        {r && (
          <ul class="deletion-receipt">
            <li>{formatCount(r.identities)} IDs (the user ID and the anonymous IDs joined to it)</li>
            {Object.entries(r.deleted)
              .filter(([, n]) => n > 0)
              .map(([kind, n]) => (
                <li key={kind}>
                  {formatCount(n)} {kind.replace(/_/g, ' ')}
                </li>
              ))}
            {job.status === 'done' && <li>Database file rewritten; {r.log_segments} log segments removed</li>}
            {r.suppressed && <li>Later messages for these IDs will be dropped</li>}
          </ul>
        )}
        {job.status === 'done' && (
          <div class="actions">
            <Link class="btn btn-primary" href={`/s/${encodeURIComponent(props.siteID)}/users`}>
              Back to users
            </Link>
          </div>
        )}
      </Dialog>
    );
  }
  return (
    <Dialog title="Delete this user everywhere?" onClose={props.onClose}>
      <p>
        Every event, session, attribute and its history, survey answer, feedback and recording of{' '}
        <code class="break">{props.id}</code> and of every anonymous ID joined to it is deleted, and cleared from the files
        on disk. Companies stay. This cannot be undone; export the user first if they asked for a copy.
      </p>
      <div class="field">
        <input
          id="delete-suppress"
          type="checkbox"
          checked={suppress}
          onChange={(e) => setSuppress((e.target as HTMLInputElement).checked)}
        />{' '}
        <label for="delete-suppress" class="field-inline">
          Also drop anything received later for these IDs (only a hash of each ID is kept)
        </label>
      </div>
      <div class="field">
        <label for="delete-confirm">
          Type <code>{props.id}</code> to confirm
        </label>
        <input
          id="delete-confirm"
          autoComplete="off"
          spellcheck={false}
          value={typed}
          onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
        />
      </div>
      {error && <p class="field-error">{error}</p>}
      <div class="actions">
        <button type="button" class="btn" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" class="btn btn-danger" disabled={!matches || busy} onClick={start}>
          Delete user
        </button>
      </div>
    </Dialog>
  );
}
