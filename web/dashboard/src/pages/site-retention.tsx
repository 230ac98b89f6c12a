// The site's data retention: how many days events, sessions, attribute
// history and survey answers are kept (0 or empty: for good). The janitor
// deletes what is older, hourly.

import { useEffect, useState } from 'preact/hooks';
import { get, put, sitePath } from '../api';
import { LoadError, Loading, Notice } from '../components/feedback';
import { Field, fieldError, FormError, useSubmit } from '../components/form';
import { useLoad } from '../hooks';
import { useSite } from '../session';

interface Retention {
  events_days: number;
  sessions_days: number;
  attribute_history_days: number;
  survey_answers_days: number;
}

const fields: { key: keyof Retention; label: string }[] = [
  { key: 'events_days', label: 'Keep events (days)' },
  { key: 'sessions_days', label: 'Keep sessions (days)' },
  { key: 'attribute_history_days', label: 'Keep attribute history (days)' },
  { key: 'survey_answers_days', label: 'Keep survey answers (days)' },
];

export function RetentionCard(props: { admin: boolean }) {
  const site = useSite();
  const path = sitePath(site.id, '/retention');
  const loaded = useLoad((signal) => get<Retention>(path, { signal }), [path]);
  const [values, setValues] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (!loaded.data) return;
    const v: Record<string, string> = {};
    for (const f of fields) v[f.key] = loaded.data[f.key] ? String(loaded.data[f.key]) : '';
    setValues(v);
  }, [loaded.data]);
  const sub = useSubmit(async () => {
    setSaved(false);
    const body: Record<string, number> = {};
    for (const f of fields) body[f.key] = values[f.key]?.trim() ? Number(values[f.key]) : 0;
    await put<Retention>(path, body);
    setSaved(true);
  });
  if (loaded.error) return <LoadError error={loaded.error} retry={loaded.reload} />;
  if (!loaded.data) return <Loading />;
  return (
    <div class="card">
      <h2>Data retention</h2>
      <p class="hint">
        Data older than this is deleted by the hourly janitor. Empty or 0 keeps it for good. Current attribute values
        are kept; recordings have their own retention above.
      </p>
      <form onSubmit={sub.onSubmit} noValidate>
        {fields.map((f) => (
          <Field key={f.key} label={f.label} error={fieldError(sub.error, f.key)}>
            {(p) => (
              <input
                {...p}
                type="number"
                min={0}
                max={36500}
                disabled={!props.admin}
                readOnly={!props.admin}
                value={values[f.key] ?? ''}
                onInput={(e) => setValues({ ...values, [f.key]: e.currentTarget.value })}
              />
            )}
          </Field>
        ))}
        <FormError error={sub.error} fields={fields.map((f) => f.key)} />
        {saved && <Notice>Saved.</Notice>}
        {props.admin && (
          <div class="actions">
            <button type="submit" class="btn btn-primary" disabled={sub.busy}>
              Save retention
            </button>
          </div>
        )}
      </form>
    </div>
  );
}
