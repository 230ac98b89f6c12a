// The question editor of the survey builder: type, prompt, required,
// options or scale labels, and branching rules, each control labelled and
// each error beside its field (from the API's field paths).

import { Field } from '../components/form';
import type { Question, QuestionType, Rule } from './types';

/** Errors by field path, from the API's details. */
export type Problems = (path: string) => string | undefined;

export const typeLabels: Record<QuestionType, string> = {
  nps: 'NPS (0–10)',
  rating: 'Rating (1–5)',
  single_choice: 'Single choice',
  multiple_choice: 'Multiple choice',
  text: 'Open text',
};

/** q reshaped for a new type: options for choices, labels for scores. */
export function withType(q: Question, type: QuestionType): Question {
  const out: Question = { id: q.id, type, prompt: q.prompt, required: q.required, branching: q.branching };
  if (type === 'single_choice' || type === 'multiple_choice') out.options = q.options && q.options.length ? q.options : ['Option 1', 'Option 2'];
  if (type === 'nps' || type === 'rating') {
    out.low_label = q.low_label;
    out.high_label = q.high_label;
  }
  if (type === 'text') delete out.branching;
  return out;
}

/** Reads a rule's value as typed: numbers for scores, a list for "in". */
function ruleValue(text: string, op: string, numeric: boolean): unknown {
  const one = (s: string) => (numeric && s.trim() !== '' && isFinite(Number(s)) ? Number(s) : s.trim());
  if (op === 'in')
    return text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(one);
  return one(text);
}

function showValue(v: unknown): string {
  return Array.isArray(v) ? v.join(', ') : v === undefined || v === null ? '' : String(v);
}

export function QuestionEditor(props: {
  q: Question;
  index: number;
  all: Question[];
  set: (q: Question) => void;
  remove: () => void;
  move: (by: number) => void;
  problems: Problems;
  disabled: boolean;
}) {
  const { q, index: i, all, set, problems: err, disabled } = props;
  const f = `questions[${i}]`;
  const choice = q.type === 'single_choice' || q.type === 'multiple_choice';
  const score = q.type === 'nps' || q.type === 'rating';
  const rules = q.branching || [];
  const setRule = (k: number, r: Rule) => set({ ...q, branching: rules.map((x, j) => (j === k ? r : x)) });
  // A rule tests this question or an earlier one (not text), and jumps to a later one or the end.
  const testable = all.slice(0, i + 1).filter((x) => x.type !== 'text');
  const later = all.slice(i + 1);
  return (
    <fieldset class="card q-card" data-q={i}>
      <legend class="q-legend">Question {i + 1}</legend>
      <div class="grid-2">
        <Field label="Question" error={err(f + '.prompt')}>
          {(p) => <input {...p} value={q.prompt} maxLength={500} disabled={disabled} onInput={(e) => set({ ...q, prompt: e.currentTarget.value })} />}
        </Field>
        <Field label="Type" error={err(f + '.type')}>
          {(p) => (
            <select {...p} value={q.type} disabled={disabled} onChange={(e) => set(withType(q, e.currentTarget.value as QuestionType))}>
              {(Object.keys(typeLabels) as QuestionType[]).map((t) => (
                <option key={t} value={t}>
                  {typeLabels[t]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Question ID" error={err(f + '.id')} hint="Used in results, exports and segments: answer(…, &quot;id&quot;).">
          {(p) => <input {...p} value={q.id} maxLength={64} disabled={disabled} onInput={(e) => set({ ...q, id: e.currentTarget.value })} />}
        </Field>
        <label class="check">
          <input type="checkbox" checked={q.required} disabled={disabled} onChange={(e) => set({ ...q, required: e.currentTarget.checked })} />
          Required
        </label>
      </div>
      {choice && (
        <Field label="Options, one per line" error={err(f + '.options') || firstUnder(err, f + '.options[', 20)}>
          {(p) => (
            <textarea
              {...p}
              rows={Math.max(3, (q.options || []).length + 1)}
              value={(q.options || []).join('\n')}
              disabled={disabled}
              onInput={(e) => set({ ...q, options: e.currentTarget.value.split('\n') })}
              onBlur={(e) => set({ ...q, options: e.currentTarget.value.split('\n').map((s) => s.trim()).filter(Boolean) })}
            />
          )}
        </Field>
      )}
      {score && (
        <div class="grid-2">
          <Field label="Label of the lowest score" error={err(f + '.low_label')}>
            {(p) => <input {...p} value={q.low_label || ''} placeholder="Not likely" disabled={disabled} onInput={(e) => set({ ...q, low_label: e.currentTarget.value || undefined })} />}
          </Field>
          <Field label="Label of the highest score" error={err(f + '.high_label')}>
            {(p) => <input {...p} value={q.high_label || ''} placeholder="Very likely" disabled={disabled} onInput={(e) => set({ ...q, high_label: e.currentTarget.value || undefined })} />}
          </Field>
        </div>
      )}
      {q.type !== 'text' && (
        <div class="rules">
          <h3>Branching</h3>
          {rules.length === 0 && <p class="hint">Without rules the next question follows.</p>}
          {err(f + '.branching') && <p class="field-error">{err(f + '.branching')}</p>}
          {rules.map((r, k) => {
            const rf = `${f}.branching[${k}]`;
            const tested = all.find((x) => x.id === r.if.question);
            const numeric = !tested || tested.type === 'nps' || tested.type === 'rating';
            return (
              <div class="rule" key={k} data-rule={k}>
                <Field label="If the answer to" error={err(rf + '.if.question')}>
                  {(p) => (
                    <select {...p} value={r.if.question} disabled={disabled} onChange={(e) => setRule(k, { ...r, if: { ...r.if, question: e.currentTarget.value } })}>
                      {testable.map((x) => (
                        <option key={x.id} value={x.id}>
                          {x.id}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
                <Field label="is" error={err(rf + '.if.op')}>
                  {(p) => (
                    <select {...p} value={r.if.op} disabled={disabled} onChange={(e) => setRule(k, { ...r, if: { ...r.if, op: e.currentTarget.value, value: ruleValue(showValue(r.if.value), e.currentTarget.value, numeric) } })}>
                      <option value="eq">equal to</option>
                      <option value="in">one of</option>
                      {numeric && <option value="lte">at most</option>}
                      {numeric && <option value="gte">at least</option>}
                    </select>
                  )}
                </Field>
                <Field label={r.if.op === 'in' ? 'Values, separated by commas' : 'Value'} error={err(rf + '.if.value')}>
                  {(p) => <input {...p} value={showValue(r.if.value)} disabled={disabled} onInput={(e) => setRule(k, { ...r, if: { ...r.if, value: ruleValue(e.currentTarget.value, r.if.op, numeric) } })} />}
                </Field>
                <Field label="go to" error={err(rf + '.goto')}>
                  {(p) => (
                    <select {...p} value={r.goto} disabled={disabled} onChange={(e) => setRule(k, { ...r, goto: e.currentTarget.value })}>
                      {later.map((x) => (
                        <option key={x.id} value={x.id}>
                          {x.id}
                        </option>
                      ))}
                      <option value="end">the end (thank you)</option>
                    </select>
                  )}
                </Field>
                {!disabled && (
                  <button type="button" class="btn btn-small btn-ghost" onClick={() => set({ ...q, branching: rules.filter((_, j) => j !== k) })}>
                    Remove rule {k + 1}
                  </button>
                )}
              </div>
            );
          })}
          {!disabled && (
            <button type="button" class="btn btn-small" onClick={() => set({ ...q, branching: [...rules, { if: { question: q.id, op: score ? 'gte' : 'eq', value: score ? 9 : (q.options || [''])[0] }, goto: 'end' }] })}>
              Add a branching rule
            </button>
          )}
        </div>
      )}
      {!disabled && (
        <div class="row-actions">
          <button type="button" class="btn btn-small" disabled={i === 0} onClick={() => props.move(-1)}>
            Move up
          </button>
          <button type="button" class="btn btn-small" disabled={i === all.length - 1} onClick={() => props.move(1)}>
            Move down
          </button>
          <button type="button" class="btn btn-small btn-danger" disabled={all.length === 1} onClick={props.remove}>
            Remove question {i + 1}
          </button>
        </div>
      )}
    </fieldset>
  );
}

/** The first error at a path starting with prefix (…options[0], …options[1]…). */
function firstUnder(err: Problems, prefix: string, n: number): string | undefined {
  for (let k = 0; k < n; k++) {
    const m = err(prefix + k + ']');
    if (m) return m;
  }
  return undefined;
}
