// The segment builder: nested all/any groups of conditions, each of which
// can be negated or removed, with the API's problems shown beside the
// condition they are about (matched by JSON path).

import { useId, useRef, useState } from 'preact/hooks';
import type { Condition, Problem } from '../types';
import { ConditionEditor } from './conditions';
import type { BuilderContext } from './fields';
import { childPath, incomplete, isGroup, kinds, notPath } from './model';

/** The problems about the node at path itself (not its children). */
function own(problems: Problem[], path: string, leaf: boolean): Problem[] {
  return problems.filter((p) => {
    const q = p.path || '';
    if (q === path) return true;
    const prefix = path ? path + '.' : '';
    if (!q.startsWith(prefix) || (!path && !q)) return false;
    if (leaf) return true;
    const rest = q.slice(prefix.length);
    return !/^conditions\[/.test(rest) && !/^condition(\.|$)/.test(rest);
  });
}

function Problems(props: { list: Problem[] }) {
  if (!props.list.length) return null;
  return (
    <ul class="problems" role="alert">
      {props.list.map((p, i) => (
        <li key={i}>{p.message}</li>
      ))}
    </ul>
  );
}

/**
 * Warnings: events and property keys the site has not seen. The segment
 * still counts and saves; a suggestion is one click away.
 */
function Warnings(props: { list: Problem[]; path: string; c: Condition; set: (c: Condition) => void; disabled: boolean }) {
  if (!props.list.length) return null;
  const use = (w: Problem, name: string) => {
    const rest = (w.path || '').slice(props.path ? props.path.length + 1 : 0);
    if (rest === 'name') props.set({ ...props.c, name });
    const m = /^where\[(\d+)\]\.key$/.exec(rest);
    if (m && Array.isArray(props.c.where)) {
      const i = Number(m[1]);
      props.set({ ...props.c, where: (props.c.where as Condition[]).map((p, j) => (j === i ? { ...p, key: name } : p)) });
    }
  };
  return (
    <ul class="warnings" role="status">
      {props.list.map((w, i) => (
        <li key={i}>
          {w.message}
          {!props.disabled &&
            (w.suggestions || []).map((s) => (
              <button type="button" class="btn btn-small btn-ghost suggestion" key={s} onClick={() => use(w, s)}>
                Use {s}
              </button>
            ))}
        </li>
      ))}
    </ul>
  );
}

/** Edits a group (the root or nested): all/any and its conditions. */
export function Group(props: {
  c: Condition;
  set: (c: Condition) => void;
  path: string;
  problems: Problem[];
  warnings?: Problem[];
  ctx: BuilderContext;
  root?: boolean;
}) {
  const { c, set, path, ctx } = props;
  const id = useId();
  const children = (Array.isArray(c.conditions) ? c.conditions : []) as Condition[];
  // Rows keep their own state (whether a person has touched them), so
  // each has a key that follows its condition through edits and removals
  // rather than its position.
  const keys = useRef({ of: new WeakMap<Condition, number>(), next: 0 });
  const keyOf = (x: Condition) => {
    let k = keys.current.of.get(x);
    if (k === undefined) {
      k = keys.current.next++;
      keys.current.of.set(x, k);
    }
    return k;
  };
  const setChild = (i: number, n: Condition | null) => {
    if (n) keys.current.of.set(n, keyOf(children[i]));
    const next = n === null ? children.filter((_, j) => j !== i) : children.map((x, j) => (j === i ? n : x));
    set({ ...c, conditions: next });
  };
  return (
    <div class={'group' + (props.root ? ' group-root' : '')} role="group" aria-labelledby={id + '-l'}>
      <div class="group-head" id={id + '-l'}>
        <span>{props.root ? 'Users who match' : 'match'}</span>
        <label class="sr-only" for={id + '-t'}>
          All or any
        </label>
        <select id={id + '-t'} value={c.type} disabled={ctx.disabled} onChange={(e) => set({ ...c, type: e.currentTarget.value })}>
          <option value="all">all</option>
          <option value="any">any</option>
        </select>
        <span>of these conditions</span>
      </div>
      <Problems list={own(props.problems, path, false)} />
      {children.length === 0 && <p class="muted group-empty">No conditions yet{ctx.disabled ? '.' : ': add one below.'}</p>}
      <ol class="conditions">
        {children.map((child, i) => (
          <Row key={keyOf(child)} c={child} set={(n) => setChild(i, n)} path={childPath(path, i)} problems={props.problems} warnings={props.warnings || []} ctx={ctx} />
        ))}
      </ol>
      {!ctx.disabled && (
        <div class="add">
          <label for={id + '-add'}>Add a condition</label>
          <select
            id={id + '-add'}
            value=""
            onChange={(e) => {
              const k = kinds.find((x) => x.type === e.currentTarget.value);
              e.currentTarget.value = '';
              if (k) set({ ...c, conditions: [...children, k.make()] });
            }}
          >
            <option value="">Choose…</option>
            {kinds.map((k) => (
              <option key={k.type} value={k.type}>
                {k.label}
              </option>
            ))}
          </select>
        </div>
      )}
    </div>
  );
}

/**
 * One condition of a group: a "not" switch, the condition's editor,
 * remove. Its problems (what it still lacks, and the server's) show once
 * a person has left it or tried to save, not while it is being written.
 */
function Row(props: { c: Condition; set: (c: Condition | null) => void; path: string; problems: Problem[]; warnings: Problem[]; ctx: BuilderContext }) {
  const { c, ctx } = props;
  const id = useId();
  const [touched, setTouched] = useState(false);
  const negated = c.type === 'not';
  const inner = negated ? (c.condition as Condition) : c;
  const innerPath = negated ? notPath(props.path) : props.path;
  const setInner = (n: Condition) => props.set(negated ? { ...c, condition: n } : n);
  const group = inner && isGroup(inner);
  const missing = inner && !group ? incomplete(inner) : '';
  const reveal = touched || ctx.showAll;
  const problems = reveal
    ? [...(negated ? own(props.problems, props.path, false) : []), ...(group ? [] : own(props.problems, innerPath, true)), ...(missing ? [{ message: missing }] : [])]
    : [];
  const warnings = group ? [] : own(props.warnings, innerPath, true);
  return (
    <li
      class={'cond' + (problems.length ? ' cond-invalid' : '') + (negated ? ' cond-not' : '') + (missing ? ' cond-incomplete' : '')}
      data-type={inner?.type}
      onFocusOut={(e) => {
        // Leaving the row (not moving between its own controls) touches it.
        const to = e.relatedTarget as Node | null;
        if (!to || !e.currentTarget.contains(to)) setTouched(true);
      }}
    >
      <div class="cond-row">
        <span class="not-toggle">
          <input
            id={id + '-not'}
            type="checkbox"
            checked={negated}
            disabled={ctx.disabled}
            onChange={() => props.set(negated ? inner : { type: 'not', condition: c })}
          />
          <label for={id + '-not'}>not</label>
        </span>
        <div class="cond-body">
          {group ? (
            <Group c={inner} set={setInner} path={innerPath} problems={props.problems} warnings={props.warnings} ctx={ctx} />
          ) : inner ? (
            <ConditionEditor c={inner} set={setInner} ctx={ctx} />
          ) : null}
        </div>
        {!ctx.disabled && (
          <button type="button" class="btn-icon" aria-label="Remove this condition" onClick={() => props.set(null)}>
            ×
          </button>
        )}
      </div>
      <Problems list={problems} />
      {inner && <Warnings list={warnings} path={innerPath} c={inner} set={setInner} disabled={ctx.disabled} />}
    </li>
  );
}

/** The root group the builder edits: a single condition is shown inside an "all" group. */
export function asRoot(c: Condition | null | undefined): Condition {
  if (!c) return { type: 'all', conditions: [] };
  return isGroup(c) ? c : { type: 'all', conditions: [c] };
}

/** Number of leaf conditions (an empty builder sends nothing to preview). */
export function leafCount(c: Condition): number {
  if (isGroup(c)) return ((c.conditions as Condition[]) || []).reduce((n, x) => n + leafCount(x), 0);
  if (c.type === 'not') return c.condition ? leafCount(c.condition as Condition) : 0;
  return 1;
}
