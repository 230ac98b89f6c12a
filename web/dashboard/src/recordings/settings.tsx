// A site's recording settings (GET/PUT …/recording-settings): whether it
// records, the share of sessions recorded, the daily quota and how long
// recordings are kept. Admins change them; everyone else reads them.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, put, sitePath } from '../api';
import { LoadError, Loading, Notice } from '../components/feedback';
import { Field, fieldError, FormError, useSubmit } from '../components/form';
import { formatCount, formatTime } from '../format';
import { useLoad } from '../hooks';
import { useSite } from '../session';
import './recordings.css';

/** The settings as the API gives them. */
export interface RecordingSettings {
  enabled: boolean;
  /** The share of sessions recorded, 0 to 1. */
  sample_rate: number;
  daily_quota: number;
  retention_days: number;
  /** The page groups whose heatmap backgrounds the tracker captures in sessions that are not recorded. */
  backgrounds?: { page: string; match: string }[];
  updated_at?: string;
}

/** The server's limits (internal/recording). */
const maxDailyQuota = 10_000_000;
const maxRetentionDays = 3650;

const fields = ['enabled', 'sample_rate', 'daily_quota', 'retention_days'];

/** A share as a percentage without needless decimals: 0.25 is "25". */
function percent(rate: number): string {
  return String(Math.round(rate * 10000) / 100);
}

export function RecordingSettingsCard(props: { admin: boolean }) {
  const site = useSite();
  const st = useLoad((signal) => get<RecordingSettings>(sitePath(site.id, '/recording-settings'), { signal }), [site.id]);
  // Linked to as …/settings#recording (from the recordings page): shown
  // once its content has loaded.
  const card = useRef<HTMLDivElement>(null);
  const ready = !!st.data;
  useEffect(() => {
    if (ready && location.hash === '#recording') card.current?.scrollIntoView();
  }, [ready]);
  return (
    <div class="card" id="recording" ref={card}>
      <h2>Session recording</h2>
      {st.error ? (
        <LoadError error={st.error} retry={st.reload} />
      ) : !st.data ? (
        <Loading />
      ) : props.admin ? (
        <SettingsForm initial={st.data} onSaved={st.set} key={site.id} />
      ) : (
        <SettingsFacts s={st.data} />
      )}
    </div>
  );
}

function SettingsFacts(props: { s: RecordingSettings }) {
  const s = props.s;
  return (
    <>
      <dl class="facts">
        <dt>Recording</dt>
        <dd>{s.enabled ? 'on' : 'off'}</dd>
        <dt>Sessions recorded</dt>
        <dd>{percent(s.sample_rate)} %</dd>
        <dt>Daily quota</dt>
        <dd>{formatCount(s.daily_quota)} recordings</dd>
        <dt>Kept for</dt>
        <dd>{formatCount(s.retention_days)} days</dd>
      </dl>
      <p class="hint">An admin of the site can change these.</p>
    </>
  );
}

/** Reads a whole number from an input, or throws the field's error. */
function wholeNumber(text: string, field: string, what: string): number {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(n)) throw new ApiError(400, 'invalid_field', `Enter ${what} as a whole number.`, field);
  return n;
}

function SettingsForm(props: { initial: RecordingSettings; onSaved: (s: RecordingSettings) => void }) {
  const site = useSite();
  const [enabled, setEnabled] = useState(props.initial.enabled);
  const [rate, setRate] = useState(percent(props.initial.sample_rate));
  const [quota, setQuota] = useState(String(props.initial.daily_quota));
  const [days, setDays] = useState(String(props.initial.retention_days));
  const [saved, setSaved] = useState<RecordingSettings | null>(null);
  const sub = useSubmit(async () => {
    setSaved(null);
    // The share is typed as a percentage: its range is checked here, in
    // its unit; the others' ranges are the server's to say.
    const pct = Number(rate.trim());
    if (rate.trim() === '' || !Number.isFinite(pct) || pct < 0 || pct > 100)
      throw new ApiError(400, 'invalid_field', 'Enter a percentage from 0 to 100.', 'sample_rate');
    const body = {
      enabled,
      sample_rate: pct / 100,
      daily_quota: wholeNumber(quota, 'daily_quota', 'the quota'),
      retention_days: wholeNumber(days, 'retention_days', 'the number of days'),
    };
    const s = await put<RecordingSettings>(sitePath(site.id, '/recording-settings'), body);
    props.onSaved(s);
    setRate(percent(s.sample_rate));
    setQuota(String(s.daily_quota));
    setDays(String(s.retention_days));
    setSaved(s);
  });
  return (
    <form onSubmit={sub.onSubmit} noValidate aria-label="Recording settings">
      <div class="check">
        <input id="rec-enabled" type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        <label for="rec-enabled">Record sessions on this site's pages (inputs masked)</label>
      </div>
      {fieldError(sub.error, 'enabled') && <p class="field-error">{fieldError(sub.error, 'enabled')}</p>}
      <div class="settings-grid">
        <Field
          label="Sessions recorded (%)"
          hint="The share of visits recorded, decided in each browser. 100 records every visit."
          error={fieldError(sub.error, 'sample_rate')}
        >
          {(p) => (
            <input {...p} type="number" inputMode="decimal" min="0" max="100" step="any" value={rate} onInput={(e) => setRate(e.currentTarget.value)} />
          )}
        </Field>
        <Field
          label="Daily quota (recordings)"
          hint={`New recordings a day (UTC), up to ${formatCount(maxDailyQuota)}; beyond it, browsers stop recording until the next day.`}
          error={fieldError(sub.error, 'daily_quota')}
        >
          {(p) => <input {...p} type="number" inputMode="numeric" min="0" step="1" value={quota} onInput={(e) => setQuota(e.currentTarget.value)} />}
        </Field>
        <Field
          label="Keep recordings for (days)"
          hint={`From 1 to ${formatCount(maxRetentionDays)}. Older ones are deleted at the next clean-up (hourly by default).`}
          error={fieldError(sub.error, 'retention_days')}
        >
          {(p) => <input {...p} type="number" inputMode="numeric" min="1" step="1" value={days} onInput={(e) => setDays(e.currentTarget.value)} />}
        </Field>
      </div>
      <FormError error={sub.error} fields={fields} />
      {saved && <Notice>Saved{saved.updated_at ? ' at ' + formatTime(saved.updated_at) : ''}.</Notice>}
      <div class="actions">
        <button type="submit" class="btn btn-primary" disabled={sub.busy}>
          Save recording settings
        </button>
      </div>
    </form>
  );
}
