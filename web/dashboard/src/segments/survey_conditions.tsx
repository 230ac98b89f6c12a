// The editors of survey and feedback conditions: the latest NPS answer
// (score or group), the latest answer to one question of one survey, and
// the average feedback rating (docs/segments.md).

import type { VNode } from 'preact';
import { useId } from 'preact/hooks';
import type { Condition } from '../types';
import { Hidden, OpSelect, Values, patch, type BuilderContext } from './fields';
import { PeriodInput, type Period } from './inputs';
import { withOp } from './model';

type EditorProps = { c: Condition; set: (c: Condition) => void; ctx: BuilderContext };

const scoreOps = ['=', '!=', '<', '<=', '>', '>=', 'between', 'in', 'not in'];
const textOps = ['=', '!=', 'in', 'not in', 'contains', 'starts_with'];

function SurveyInput(props: { c: Condition; set: (c: Condition) => void; ctx: BuilderContext; optional?: boolean }) {
  const id = useId();
  return (
    <Hidden id={id} label={props.optional ? 'Survey ID (empty: any survey)' : 'Survey ID'}>
      <input
        id={id}
        class="input-short"
        value={String(props.c.survey || '')}
        placeholder={props.optional ? 'any survey' : 'srv_…'}
        disabled={props.ctx.disabled}
        onInput={(e) => props.set(patch(props.c, { survey: e.currentTarget.value || undefined }))}
      />
    </Hidden>
  );
}

function NPSEditor({ c, set, ctx }: EditorProps) {
  const id = useId();
  const group = c.type === 'nps_group';
  return (
    <>
      <span>whose latest NPS {group ? 'group' : 'score'} in</span>
      <SurveyInput c={c} set={set} ctx={ctx} optional />
      <OpSelect id={id} label="Comparison" op={String(c.op || '=')} ops={group ? ['=', '!=', 'in', 'not in'] : scoreOps} disabled={ctx.disabled} onChange={(op) => set(withOp(c, op))} />
      {group && (c.op === '=' || c.op === '!=') ? (
        <Hidden id={id + 'g'} label="NPS group">
          <select id={id + 'g'} value={String(c.value || 'detractor')} disabled={ctx.disabled} onChange={(e) => set({ ...c, value: e.currentTarget.value })}>
            <option value="promoter">promoter (9–10)</option>
            <option value="passive">passive (7–8)</option>
            <option value="detractor">detractor (0–6)</option>
          </select>
        </Hidden>
      ) : (
        <Values c={c} set={set} type={group ? 'string' : 'number'} disabled={ctx.disabled} label={group ? 'Groups' : 'Score'} />
      )}
      <PeriodInput label="When" value={c.within as Period} disabled={ctx.disabled} onChange={(p) => set(patch(c, { within: p }))} />
    </>
  );
}

function AnswerEditor({ c, set, ctx }: EditorProps) {
  const id = useId();
  const numeric = typeof c.value === 'number' || (Array.isArray(c.values) && typeof c.values[0] === 'number');
  return (
    <>
      <span>whose latest answer in</span>
      <SurveyInput c={c} set={set} ctx={ctx} />
      <span>to</span>
      <Hidden id={id + 'q'} label="Question ID">
        <input id={id + 'q'} class="input-short" value={String(c.question || '')} placeholder="question" disabled={ctx.disabled} onInput={(e) => set({ ...c, question: e.currentTarget.value })} />
      </Hidden>
      <OpSelect id={id} label="Comparison" op={String(c.op || '=')} ops={numeric ? scoreOps : textOps.concat(scoreOps.filter((o) => textOps.indexOf(o) < 0))} disabled={ctx.disabled} onChange={(op) => set(withOp(c, op))} />
      <Values c={c} set={set} disabled={ctx.disabled} label="Answer (a number for scores)" />
      <PeriodInput label="When" value={c.within as Period} disabled={ctx.disabled} onChange={(p) => set(patch(c, { within: p }))} />
    </>
  );
}

function FeedbackRatingEditor({ c, set, ctx }: EditorProps) {
  const id = useId();
  return (
    <>
      <span>whose average feedback rating is</span>
      <OpSelect id={id} label="Comparison" op={String(c.op || '<=')} ops={['=', '!=', '<', '<=', '>', '>=', 'between']} disabled={ctx.disabled} onChange={(op) => set(withOp(c, op))} />
      <Values c={c} set={set} type="number" disabled={ctx.disabled} label="Rating from 1 to 5" />
      <PeriodInput label="When" value={c.within as Period} disabled={ctx.disabled} onChange={(p) => set(patch(c, { within: p }))} />
    </>
  );
}

/** The editors by condition type. */
export const surveyEditors: Record<string, (p: EditorProps) => VNode> = {
  nps_score: NPSEditor,
  nps_group: NPSEditor,
  answer: AnswerEditor,
  feedback_rating: FeedbackRatingEditor,
};
