// The editors of single conditions (attribute, event, page, session…), one
// row of controls each, labelled for screen readers.

import { useId } from 'preact/hooks';
import type { VNode } from 'preact';
import { EventNames, propertyKeys } from '../events';
import type { AttrType, Condition } from '../types';
import { CountInput, DurationInput, Period, PeriodInput } from './inputs';
import { Hidden, OpSelect, ValueInput, Values, patch, type BuilderContext } from './fields';
import { surveyEditors } from './survey_conditions';
import { arity, opLabels, opsByType, propertyOps, propertyValue, sessionFields, signalKinds, withOp } from './model';

type EditorProps = { c: Condition; set: (c: Condition) => void; ctx: BuilderContext };

function attrType(ctx: BuilderContext, key: string, scope: string): AttrType | undefined {
  const entity = scope === 'company' ? 'group' : 'user';
  return ctx.catalog.find((k) => k.key === key && k.entity === entity)?.type;
}


function KeySelect(props: { id: string; c: Condition; set: (c: Condition) => void; ctx: BuilderContext; userOnly?: boolean }) {
  const { c, ctx } = props;
  const scope = String(c.scope || 'user');
  const current = (scope === 'company' ? 'group:' : 'user:') + String(c.key || '');
  const keys = ctx.catalog.filter((k) => !props.userOnly || k.entity === 'user');
  const known = keys.some((k) => k.entity + ':' + k.key === current);
  return (
    <Hidden id={props.id} label="Attribute">
      <select
        id={props.id}
        value={known ? current : c.key ? 'unknown' : ''}
        disabled={ctx.disabled}
        onChange={(e) => {
          const [entity, ...rest] = e.currentTarget.value.split(':');
          const key = rest.join(':');
          let next = patch(c, { key, scope: entity === 'group' ? 'company' : undefined });
          const t = ctx.catalog.find((k) => k.key === key && k.entity === entity)?.type;
          if (t && c.op !== undefined && !opsByType[t].includes(String(c.op))) next = withOp(next, opsByType[t][0]);
          if (t === 'boolean' && arity(String(next.op)) === 'one') next.value = true;
          props.set(next);
        }}
      >
        <option value="">Choose an attribute…</option>
        {!known && c.key ? <option value="unknown">{String(c.key)} (not in the catalog)</option> : null}
        {keys.map((k) => (
          <option key={k.entity + k.key} value={k.entity + ':' + k.key}>
            {(k.entity === 'group' ? 'company.' : '') + k.key}
          </option>
        ))}
      </select>
    </Hidden>
  );
}

function AttributeEditor({ c, set, ctx }: EditorProps) {
  const id = useId();
  const scope = String(c.scope || 'user');
  const type = attrType(ctx, String(c.key || ''), scope);
  const ops = type ? opsByType[type] : Object.keys(opLabels);
  const samples = ctx.catalog.find((k) => k.key === c.key && k.entity === (scope === 'company' ? 'group' : 'user'))?.sample_values || [];
  return (
    <>
      <KeySelect id={id + 'k'} c={c} set={set} ctx={ctx} />
      <OpSelect id={id + 'o'} label="Operator" op={String(c.op || '=')} ops={ops} disabled={ctx.disabled} onChange={(op) => set(withOp(c, op))} />
      <Values c={c} set={set} type={type} list={id + 'l'} disabled={ctx.disabled} label="Value" />
      {type === 'string' && (
        <datalist id={id + 'l'}>
          {samples.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      )}
      {c.as_of ? <span class="note">as of {String(c.as_of)}</span> : null}
    </>
  );
}

function ChangedEditor({ c, set, ctx }: EditorProps) {
  const id = useId();
  const type = attrType(ctx, String(c.key || ''), 'user');
  const part = (field: 'from' | 'to') => (
    <span class="inline-group">
      <span>{field}</span>
      <ValueInput
        id={id + field}
        label={`Changed ${field} (empty: any value)`}
        value={c[field] ?? ''}
        type={type === 'boolean' ? undefined : type}
        op="="
        disabled={ctx.disabled}
        onChange={(v) => set(patch(c, { [field]: v === '' ? undefined : v }))}
      />
    </span>
  );
  return (
    <>
      <KeySelect id={id + 'k'} c={c} set={set} ctx={ctx} userOnly />
      <span>changed</span>
      {part('from')}
      {part('to')}
      <PeriodInput label="Changed when" value={c.within as Period} disabled={ctx.disabled} onChange={(p) => set(patch(c, { within: p }))} />
    </>
  );
}

function PropertyFilters({ c, set, ctx }: EditorProps) {
  const id = useId();
  const where = Array.isArray(c.where) ? (c.where as Condition[]) : [];
  const setWhere = (w: Condition[]) => set(patch(c, { where: w.length ? w : undefined }));
  const keys = propertyKeys(ctx.events, String(c.name || ''));
  return (
    <div class="where">
      {keys.length > 0 && (
        <datalist id={id + 'keys'}>
          {keys.map((k) => (
            <option key={k.key} value={k.key} />
          ))}
        </datalist>
      )}
      {where.map((p, i) => (
        <div class="where-row" key={i}>
          <span>where property</span>
          <Hidden id={id + 'k' + i} label="Property name">
            <input
              id={id + 'k' + i}
              list={keys.length > 0 ? id + 'keys' : undefined}
              autoComplete="off"
              value={String(p.key || '')}
              disabled={ctx.disabled}
              onInput={(e) => setWhere(where.map((x, j) => (j === i ? { ...x, key: e.currentTarget.value } : x)))}
            />
          </Hidden>
          <OpSelect
            id={id + 'o' + i}
            label="Property operator"
            op={String(p.op || '=')}
            ops={propertyOps}
            disabled={ctx.disabled}
            onChange={(op) => setWhere(where.map((x, j) => (j === i ? withOp(x, op) : x)))}
          />
          <Values
            c={p}
            label="Property value"
            list={id + 'v' + i}
            disabled={ctx.disabled}
            set={(np) => setWhere(where.map((x, j) => (j === i ? { ...np, value: typeof np.value === 'string' ? propertyValue(np.value) : np.value } : x)))}
          />
          <datalist id={id + 'v' + i}>
            {(keys.find((k) => k.key === p.key)?.sample_values || []).map((v) => (
              <option key={v} value={v} />
            ))}
          </datalist>
          {!ctx.disabled && (
            <button type="button" class="btn-icon" aria-label="Remove the property filter" onClick={() => setWhere(where.filter((_, j) => j !== i))}>
              ×
            </button>
          )}
        </div>
      ))}
      {!ctx.disabled && (
        <button type="button" class="btn btn-small btn-ghost" onClick={() => setWhere([...where, { key: '', op: '=', value: '' } as unknown as Condition])}>
          + property filter
        </button>
      )}
    </div>
  );
}

function EventEditor({ c, set, ctx }: EditorProps) {
  const id = useId();
  const first = c.type === 'first_event';
  return (
    <>
      <span>{first ? 'did for the first time' : 'did'}</span>
      <Hidden id={id} label="Event name">
        <input
          id={id}
          class="event-name"
          list={id + '-events'}
          autoComplete="off"
          value={String(c.name || '')}
          placeholder={ctx.events[0]?.name || 'Export'}
          disabled={ctx.disabled}
          onInput={(e) => set({ ...c, name: e.currentTarget.value })}
        />
      </Hidden>
      <EventNames id={id + '-events'} events={ctx.events} />
      {!first && (
        <CountInput label="How often" optional op={c.op as string | undefined} value={c.value} disabled={ctx.disabled} unit="times" onChange={(op, value) => set(patch(c, { op, value }))} />
      )}
      <PeriodInput label="When" value={c.within as Period} disabled={ctx.disabled} onChange={(p) => set(patch(c, { within: p }))} />
      {!first && <PropertyFilters c={c} set={set} ctx={ctx} />}
    </>
  );
}

function CountEditor({ c, set, ctx }: EditorProps) {
  const what = c.type === 'active_days' ? 'was active on' : 'had';
  const unit = c.type === 'active_days' ? 'days' : 'sessions';
  return (
    <>
      <span>{what}</span>
      <CountInput label={c.type === 'active_days' ? 'Active days' : 'Sessions'} op={c.op as string} value={c.value} unit={unit} disabled={ctx.disabled} onChange={(op, value) => set(patch(c, { op: op ?? '>=', value }))} />
      <PeriodInput label="When" value={c.within as Period} disabled={ctx.disabled} onChange={(p) => set(patch(c, { within: p }))} />
    </>
  );
}

/** Rage clicks, dead clicks, u-turns, errors: how often, when, optionally on which pages. */
function SignalEditor({ c, set, ctx }: EditorProps) {
  const id = useId();
  const label = signalKinds.find((s) => s.type === c.type)?.label || c.type;
  const onPage = c.page !== undefined;
  return (
    <>
      <span>had {label.toLowerCase()}</span>
      <CountInput label={label + ': how often'} optional op={c.op as string | undefined} value={c.value} unit="times" disabled={ctx.disabled} onChange={(op, value) => set(patch(c, { op, value }))} />
      <PeriodInput label="When" value={c.within as Period} disabled={ctx.disabled} onChange={(p) => set(patch(c, { within: p }))} />
      <Hidden id={id + 'w'} label="On which pages">
        <select
          id={id + 'w'}
          value={onPage ? String(c.match || '=') : 'any'}
          disabled={ctx.disabled}
          onChange={(e) => {
            const m = e.currentTarget.value;
            set(m === 'any' ? patch(c, { match: undefined, page: undefined }) : patch(c, { match: m, page: c.page ?? '/' }));
          }}
        >
          <option value="any">on any page</option>
          <option value="=">on the page</option>
          <option value="contains">on pages containing</option>
          <option value="starts_with">on pages starting with</option>
          <option value="matches">on pages matching</option>
        </select>
      </Hidden>
      {onPage && (
        <Hidden id={id + 'p'} label="Page path">
          <input id={id + 'p'} value={String(c.page)} disabled={ctx.disabled} onInput={(e) => set({ ...c, page: e.currentTarget.value })} />
        </Hidden>
      )}
    </>
  );
}

function VisitedEditor({ c, set, ctx }: EditorProps) {
  const id = useId();
  return (
    <>
      <span>visited a page whose path</span>
      <OpSelect id={id + 'm'} label="Page match" op={String(c.match || '=')} ops={['=', 'contains', 'starts_with', 'matches']} disabled={ctx.disabled} onChange={(m) => set({ ...c, match: m })} />
      <Hidden id={id + 'p'} label="Page path">
        <input id={id + 'p'} value={String(c.page || '')} placeholder="/pricing" disabled={ctx.disabled} onInput={(e) => set({ ...c, page: e.currentTarget.value })} />
      </Hidden>
      <CountInput label="How often" optional op={c.op as string | undefined} value={c.value} unit="times" disabled={ctx.disabled} onChange={(op, value) => set(patch(c, { op, value }))} />
      <PeriodInput label="When" value={c.within as Period} disabled={ctx.disabled} onChange={(p) => set(patch(c, { within: p }))} />
    </>
  );
}

function DurationEditor({ c, set, ctx }: EditorProps) {
  const id = useId();
  return (
    <>
      <Hidden id={id + 'a'} label="Which sessions">
        <select id={id + 'a'} value={String(c.agg || 'any')} disabled={ctx.disabled} onChange={(e) => set({ ...c, agg: e.currentTarget.value })}>
          <option value="any">had a session lasting</option>
          <option value="avg">averaged sessions of</option>
        </select>
      </Hidden>
      <OpSelect id={id + 'o'} label="Comparison" op={String(c.op || '>=')} ops={['>=', '>', '<', '<=']} disabled={ctx.disabled} onChange={(op) => set({ ...c, op })} />
      <DurationInput label="Duration" value={String(c.value || '')} units={['s', 'm', 'h']} disabled={ctx.disabled} onChange={(v) => set({ ...c, value: v })} />
      <PeriodInput label="When" value={c.within as Period} disabled={ctx.disabled} onChange={(p) => set(patch(c, { within: p }))} />
    </>
  );
}

function SessionFieldEditor({ c, set, ctx }: EditorProps) {
  const id = useId();
  return (
    <>
      <span>had a session whose</span>
      <Hidden id={id + 'f'} label="Session field">
        <select id={id + 'f'} value={String(c.field || 'device')} disabled={ctx.disabled} onChange={(e) => set({ ...c, field: e.currentTarget.value })}>
          {sessionFields.map(([f, l]) => (
            <option key={f} value={f}>
              {l}
            </option>
          ))}
        </select>
      </Hidden>
      <OpSelect id={id + 'o'} label="Operator" op={String(c.op || '=')} ops={opsByType.string} disabled={ctx.disabled} onChange={(op) => set(withOp(c, op))} />
      <Values c={c} set={set} type="string" disabled={ctx.disabled} label="Value" />
      <PeriodInput label="When" value={c.within as Period} disabled={ctx.disabled} onChange={(p) => set(patch(c, { within: p }))} />
    </>
  );
}

function SegmentRefEditor({ c, set, ctx }: EditorProps) {
  const id = useId();
  const others = ctx.segments.filter((s) => s.id !== ctx.selfID);
  const known = others.some((s) => s.id === c.id);
  return (
    <>
      <span>is in the segment</span>
      <Hidden id={id} label="Segment">
        <select id={id} value={String(c.id || '')} disabled={ctx.disabled} onChange={(e) => set({ ...c, id: e.currentTarget.value })}>
          <option value="">Choose a segment…</option>
          {!known && c.id ? <option value={String(c.id)}>{String(c.id)}</option> : null}
          {others.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </Hidden>
    </>
  );
}

function IdentifiedEditor() {
  return <span>is identified (has a user ID, not only an anonymous one)</span>;
}

function UnknownEditor({ c }: EditorProps) {
  return (
    <span class="note">
      <code>{JSON.stringify(c)}</code> — edit this condition in the text editor.
    </span>
  );
}

const editors: Record<string, (p: EditorProps) => VNode> = {
  attribute: AttributeEditor,
  changed: ChangedEditor,
  event: EventEditor,
  first_event: EventEditor,
  active_days: CountEditor,
  sessions: CountEditor,
  visited: VisitedEditor,
  session_duration: DurationEditor,
  session: SessionFieldEditor,
  segment: SegmentRefEditor,
  identified: IdentifiedEditor,
  ...Object.fromEntries(signalKinds.map((k) => [k.type, SignalEditor])),
  ...surveyEditors,
};

/** The editor of a leaf condition of any kind. */
export function ConditionEditor(props: EditorProps) {
  const E = editors[props.c.type] || UnknownEditor;
  return <E {...props} />;
}
