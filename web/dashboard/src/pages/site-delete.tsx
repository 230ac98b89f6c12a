// Deleting the site (owners only): everything it holds goes, after the
// owner types the site's name.

import { useState } from 'preact/hooks';
import { api, sitePath } from '../api';
import { Dialog } from '../components/dialog';
import { fieldError, FormError } from '../components/form';
import { navigate } from '../router';
import { useSession, useSite } from '../session';

export function DeleteSiteCard() {
  const site = useSite();
  const { refresh } = useSession();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await api('DELETE', sitePath(site.id), { confirm: typed });
      await refresh();
      navigate('/', true);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <div class="card card-danger">
      <h2>Delete this site</h2>
      <p class="hint">
        Deletes every event, user, session, recording, survey, answer, feedback, token and the write key of{' '}
        <strong>{site.name}</strong>, and clears them from the files on disk. This cannot be undone.
      </p>
      <div class="actions">
        <button type="button" class="btn btn-danger" onClick={() => setOpen(true)}>
          Delete site…
        </button>
      </div>
      {open && (
        <Dialog title={'Delete ' + site.name + '?'} onClose={() => setOpen(false)}>
          <div class="field">
            <label for="delete-site-confirm">Type the site's name to confirm</label>
            <input
              id="delete-site-confirm"
              autoComplete="off"
              value={typed}
              onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
            />
            {fieldError(error, 'confirm') && <p class="field-error">{fieldError(error, 'confirm')}</p>}
          </div>
          <FormError error={error} fields={['confirm']} />
          {busy && <p role="status">Deleting… this rewrites the database file and can take a while.</p>}
          <div class="actions">
            <button type="button" class="btn" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button type="button" class="btn btn-danger" disabled={typed !== site.name || busy} onClick={remove}>
              Delete site
            </button>
          </div>
        </Dialog>
      )}
    </div>
  );
}
