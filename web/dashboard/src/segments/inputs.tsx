// Small inputs of the builder: a period ("in the last 30 days", a date
// range, or all time), a duration ("3h"), and a count comparison.

import { useId } from 'preact/hooks';
import { countLabels, countOps } from './model';

export type Period = string | { from: string; to: string } | undefined;

const periodUnits: [string, string][] = [
  ['h', 'hours'],
  ['d', 'days'],
  ['w', 'weeks'],
];

/** Edits a "within": all time, the last N units, or a date range. */
export function PeriodInput(props: { value: Period; onChange: (p: Period) => void; label?: string; disabled?: boolean; allowAllTime?: boolean }) {
  const id = useId();
  const v = props.value;
  const mode = v === undefined ? 'all' : typeof v === 'string' ? 'last' : 'range';
  const m = typeof v === 'string' ? /^(\d+)([smhdw])$/.exec(v) : null;
  const n = m ? m[1] : typeof v === 'string' ? v : '30';
  const unit = m ? m[2] : 'd';
  const allowAll = props.allowAllTime !== false;
  return (
    <span class="inline-group" role="group" aria-label={props.label || 'Period'}>
      <label class="sr-only" for={id + '-mode'}>
        {(props.label || 'Period') + ': when'}
      </label>
      <select
        id={id + '-mode'}
        value={mode}
        disabled={props.disabled}
        onChange={(e) => {
          const next = e.currentTarget.value;
          props.onChange(next === 'all' ? undefined : next === 'last' ? '30d' : { from: today(-30), to: today(0) });
        }}
      >
        {allowAll && <option value="all">ever</option>}
        <option value="last">in the last</option>
        <option value="range">between dates</option>
      </select>
      {mode === 'last' && (
        <>
          <label class="sr-only" for={id + '-n'}>
            Number of units
          </label>
          <input
            id={id + '-n'}
            class="num-input"
            type="number"
            min={1}
            step={1}
            value={n}
            disabled={props.disabled}
            onInput={(e) => props.onChange(e.currentTarget.value + unit)}
          />
          <label class="sr-only" for={id + '-unit'}>
            Unit
          </label>
          <select id={id + '-unit'} value={unit} disabled={props.disabled} onChange={(e) => props.onChange(n + e.currentTarget.value)}>
            {periodUnits.map(([u, l]) => (
              <option key={u} value={u}>
                {l}
              </option>
            ))}
          </select>
        </>
      )}
      {mode === 'range' && typeof v === 'object' && (
        <>
          <label class="sr-only" for={id + '-from'}>
            From
          </label>
          <input id={id + '-from'} type="date" value={v.from} disabled={props.disabled} onInput={(e) => props.onChange({ ...v, from: e.currentTarget.value })} />
          <span aria-hidden="true">to</span>
          <label class="sr-only" for={id + '-to'}>
            To (not included)
          </label>
          <input id={id + '-to'} type="date" value={v.to} disabled={props.disabled} onInput={(e) => props.onChange({ ...v, to: e.currentTarget.value })} />
        </>
      )}
    </span>
  );
}

function today(offsetDays: number): string {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return d.toISOString().slice(0, 10);
}

const durationUnits: [string, string][] = [
  ['s', 'seconds'],
  ['m', 'minutes'],
  ['h', 'hours'],
  ['d', 'days'],
];

/** Edits a duration like "3h" or "30d". */
export function DurationInput(props: { value: string; onChange: (v: string) => void; label: string; units?: string[]; disabled?: boolean }) {
  const id = useId();
  const m = /^(\d+)([smhdw])$/.exec(props.value || '');
  const n = m ? m[1] : props.value || '';
  const unit = m ? m[2] : 'd';
  const units = durationUnits.filter(([u]) => !props.units || props.units.includes(u));
  return (
    <span class="inline-group" role="group" aria-label={props.label}>
      <label class="sr-only" for={id + '-n'}>
        {props.label}
      </label>
      <input id={id + '-n'} class="num-input" type="number" min={1} step={1} value={n} disabled={props.disabled} onInput={(e) => props.onChange(e.currentTarget.value + unit)} />
      <label class="sr-only" for={id + '-unit'}>
        {props.label + ' unit'}
      </label>
      <select id={id + '-unit'} value={unit} disabled={props.disabled} onChange={(e) => props.onChange(n + e.currentTarget.value)}>
        {units.map(([u, l]) => (
          <option key={u} value={u}>
            {l}
          </option>
        ))}
      </select>
    </span>
  );
}

/** Edits a count comparison: op and a whole number. optional adds "at least once" (no op). */
export function CountInput(props: {
  op: string | undefined;
  value: unknown;
  onChange: (op: string | undefined, value: number | undefined) => void;
  label: string;
  optional?: boolean;
  unit?: string;
  disabled?: boolean;
}) {
  const id = useId();
  const mode = props.op === undefined ? 'once' : props.op;
  return (
    <span class="inline-group" role="group" aria-label={props.label}>
      <label class="sr-only" for={id + '-op'}>
        {props.label + ': comparison'}
      </label>
      <select
        id={id + '-op'}
        value={mode}
        disabled={props.disabled}
        onChange={(e) => {
          const o = e.currentTarget.value;
          if (o === 'once') props.onChange(undefined, undefined);
          else props.onChange(o, typeof props.value === 'number' ? props.value : 1);
        }}
      >
        {props.optional && <option value="once">at least once</option>}
        {countOps.map((o) => (
          <option key={o} value={o}>
            {countLabels[o]}
          </option>
        ))}
      </select>
      {mode !== 'once' && (
        <>
          <label class="sr-only" for={id + '-n'}>
            {props.label + ': number'}
          </label>
          <input
            id={id + '-n'}
            class="num-input"
            type="number"
            min={0}
            step={1}
            value={props.value === undefined ? '' : String(props.value)}
            disabled={props.disabled}
            onInput={(e) => {
              const s = e.currentTarget.value;
              props.onChange(props.op, s === '' ? undefined : Number(s));
            }}
          />
          {props.unit && <span>{props.unit}</span>}
        </>
      )}
    </span>
  );
}
