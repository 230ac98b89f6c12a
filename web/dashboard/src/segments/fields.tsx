// The controls the condition editors share: a hidden label, an operator,
// the values of a condition, and the builder's context.

import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import type { AttrType, CatalogKey, Condition, EventInfo, SavedSegment } from '../types';
import { DurationInput } from './inputs';
import { arity, opLabels, propertyValue, typedValue } from './model';

export interface BuilderContext {
  catalog: CatalogKey[];
  /** The site's track events with their properties, for completion. */
  events: EventInfo[];
  segments: SavedSegment[];
  selfID?: string;
  disabled: boolean;
  /** Show every condition's problems, touched or not (after an attempt to save). */
  showAll?: boolean;
}

/** A labelled control that shows its label only to screen readers. */
export function Hidden(props: { id: string; label: string; children: ComponentChildren }) {
  return (
    <>
      <label class="sr-only" for={props.id}>
        {props.label}
      </label>
      {props.children}
    </>
  );
}

/** Sets or removes a field. */
export function patch(c: Condition, fields: Record<string, unknown>): Condition {
  const out: Condition = { ...c };
  for (const k in fields) {
    if (fields[k] === undefined) delete out[k];
    else out[k] = fields[k];
  }
  return out;
}

/** An input for one value of an attribute of type t (or text when unknown). */
export function ValueInput(props: { id: string; label: string; value: unknown; type?: AttrType; op: string; onChange: (v: unknown) => void; list?: string; disabled: boolean }) {
  const { id, label, type, disabled } = props;
  if (props.op === 'within' || props.op === 'older_than')
    return <DurationInput label={label} value={String(props.value ?? '')} onChange={props.onChange} units={['h', 'd']} disabled={disabled} />;
  if (type === 'boolean')
    return (
      <Hidden id={id} label={label}>
        <select id={id} value={String(props.value)} disabled={disabled} onChange={(e) => props.onChange(typedValue(e.currentTarget.value, type))}>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      </Hidden>
    );
  const s = props.value === undefined || props.value === null ? '' : String(props.value);
  const asDate = type === 'datetime' && (s === '' || /^\d{4}-\d{2}-\d{2}$/.test(s));
  return (
    <Hidden id={id} label={label}>
      <input
        id={id}
        type={asDate ? 'date' : type === 'number' ? 'number' : 'text'}
        step={type === 'number' ? 'any' : undefined}
        class={type === 'number' ? 'num-input' : ''}
        list={props.list}
        value={s}
        disabled={disabled}
        onInput={(e) => props.onChange(typedValue(e.currentTarget.value, type))}
      />
    </Hidden>
  );
}

/** Inputs for the value(s) an operator takes. */
export function Values(props: { c: Condition; set: (c: Condition) => void; type?: AttrType; list?: string; disabled: boolean; label: string }) {
  const { c, set, type, disabled } = props;
  const id = useId();
  const op = String(c.op || '=');
  const a = arity(op);
  if (a === 'none') return null;
  if (a === 'one')
    return <ValueInput id={id} label={props.label} value={c.value} type={type} op={op} list={props.list} disabled={disabled} onChange={(v) => set({ ...c, value: v })} />;
  const vals = Array.isArray(c.values) ? (c.values as unknown[]) : [];
  if (a === 'two')
    return (
      <span class="inline-group">
        <ValueInput id={id + 'a'} label={props.label + ' from'} value={vals[0]} type={type} op={op} disabled={disabled} onChange={(v) => set({ ...c, values: [v, vals[1]] })} />
        <span aria-hidden="true">and</span>
        <ValueInput id={id + 'b'} label={props.label + ' to'} value={vals[1]} type={type} op={op} disabled={disabled} onChange={(v) => set({ ...c, values: [vals[0], v] })} />
      </span>
    );
  return (
    <Hidden id={id} label={props.label + ', separated by commas'}>
      <input
        id={id}
        value={vals.map(String).join(', ')}
        placeholder="a, b, c"
        disabled={disabled}
        onInput={(e) =>
          set({
            ...c,
            values: e.currentTarget.value
              .split(',')
              .map((x) => x.trim())
              .filter((x) => x !== '')
              .map((x) => (type ? typedValue(x, type) : propertyValue(x))),
          })
        }
      />
    </Hidden>
  );
}

export function OpSelect(props: { id: string; label: string; op: string; ops: string[]; onChange: (op: string) => void; disabled: boolean }) {
  return (
    <Hidden id={props.id} label={props.label}>
      <select id={props.id} value={props.op} disabled={props.disabled} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.ops.map((o) => (
          <option key={o} value={o}>
            {opLabels[o] || o}
          </option>
        ))}
      </select>
    </Hidden>
  );
}
