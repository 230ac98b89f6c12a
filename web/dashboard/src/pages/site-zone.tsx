// The site's time zone: the calendar its trends, funnels and retention
// follow when an insight names no zone of its own (days, weeks and months
// start at its midnight).

import { useState } from 'preact/hooks';
import { patch, sitePath } from '../api';
import { Notice } from '../components/feedback';
import { Field, fieldError, FormError, useSubmit } from '../components/form';
import { useSession, useSite } from '../session';

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** The zone names the browser knows, for the field's suggestions. */
function zoneNames(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  try {
    return intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : [];
  } catch {
    return [];
  }
}

export function TimeZoneCard(props: { admin: boolean }) {
  const site = useSite();
  const { refresh } = useSession();
  const current = site.time_zone || 'UTC';
  const [zone, setZone] = useState(current);
  const [saved, setSaved] = useState(false);
  const sub = useSubmit(async () => {
    setSaved(false);
    await patch(sitePath(site.id), { time_zone: zone.trim() });
    await refresh();
    setSaved(true);
  });
  return (
    <div class="card">
      <h2>Time zone</h2>
      <p class="hint">
        Insights count days, weeks and months in this zone unless one names its own: a day runs from midnight to midnight
        there, 23 or 25 hours when the clocks change. Now: <strong data-testid="site-zone">{current}</strong>.
      </p>
      <form onSubmit={sub.onSubmit} noValidate>
        <Field label="Time zone (IANA name)" hint="Such as Europe/Oslo or America/New_York; empty for UTC." error={fieldError(sub.error, 'time_zone')}>
          {(p) => (
            <input
              {...p}
              class="mono"
              list="time-zone-options"
              disabled={!props.admin}
              readOnly={!props.admin}
              value={zone}
              onInput={(e) => setZone(e.currentTarget.value)}
            />
          )}
        </Field>
        <datalist id="time-zone-options">
          {zoneNames().map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <FormError error={sub.error} fields={['time_zone']} />
        {saved && <Notice>Saved.</Notice>}
        {props.admin && (
          <div class="actions">
            <button type="submit" class="btn btn-primary" disabled={sub.busy}>
              Save time zone
            </button>
            {browserZone !== zone && (
              <button type="button" class="btn" onClick={() => setZone(browserZone)}>
                Use this browser's ({browserZone})
              </button>
            )}
          </div>
        )}
      </form>
    </div>
  );
}
