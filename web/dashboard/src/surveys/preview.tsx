// A live preview of the survey widget as a visitor sees it, drawn with the
// survey's appearance; it only shows, it sends nothing.

import { useState } from 'preact/hooks';
import { validColour } from '../components/colour';
import type { Definition } from './types';

export function SurveyPreview(props: { def: Definition }) {
  const { def } = props;
  const [step, setStep] = useState(0);
  const n = def.questions.length;
  const i = Math.min(step, n);
  const q = def.questions[i];
  const a = def.appearance;
  // A colour being typed (not valid yet) shows as the default.
  const colour = (v: string, d: string) => (v && validColour(v) ? v : d);
  const colours = { background: colour(a.background, '#ffffff'), color: colour(a.text, '#111827'), '--preview-accent': colour(a.accent, '#4f46e5') };
  return (
    <div class="preview-frame" aria-label="Preview of the survey">
      <div class={'preview-box preview-' + (a.position || 'bottom-right')} style={colours}>
        {q ? (
          <>
            <p class="preview-muted">
              Question {i + 1} of {n}
            </p>
            <p class="preview-title">
              {q.prompt || 'Your question'}
              {q.required ? ' *' : ''}
            </p>
            {(q.type === 'nps' || q.type === 'rating') && (
              <>
                <div class={'preview-scale preview-' + q.type}>
                  {Array.from({ length: q.type === 'nps' ? 11 : 5 }, (_, k) => (
                    <span key={k}>{q.type === 'nps' ? k : k + 1}</span>
                  ))}
                </div>
                <div class="preview-ends">
                  <span>{q.low_label}</span>
                  <span>{q.high_label}</span>
                </div>
              </>
            )}
            {(q.type === 'single_choice' || q.type === 'multiple_choice') &&
              (q.options || []).filter(Boolean).map((o) => (
                <p key={o} class="preview-option">
                  <span class={q.type === 'single_choice' ? 'preview-radio' : 'preview-checkbox'} /> {o}
                </p>
              ))}
            {q.type === 'text' && <div class="preview-text" />}
            <div class="preview-row">
              <span class="preview-button">{i === n - 1 ? 'Submit' : 'Next'}</span>
            </div>
          </>
        ) : (
          <>
            <p class="preview-title">{def.thank_you.title || 'Thank you!'}</p>
            {def.thank_you.message && <p>{def.thank_you.message}</p>}
          </>
        )}
      </div>
      <div class="preview-controls">
        <button type="button" class="btn btn-small" disabled={i === 0} onClick={() => setStep(i - 1)}>
          Previous step
        </button>
        <button type="button" class="btn btn-small" disabled={i >= n} onClick={() => setStep(i + 1)}>
          Next step
        </button>
      </div>
    </div>
  );
}
