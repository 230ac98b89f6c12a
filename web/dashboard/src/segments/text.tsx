// The text form's editor: a textarea with line numbers, the lines with
// problems marked, and each problem listed with its line and column; a
// problem's button puts the cursor where it is. Lines do not wrap (a long
// one scrolls sideways), so that each number stays beside its line; the
// numbers scroll with the text.

import { useRef } from 'preact/hooks';
import type { Problem } from '../types';

/** The offset in text of a 1-based line and column (columns count characters). */
export function offsetOf(text: string, line: number, col: number): number {
  const lines = Array.from(text).join('').split('\n');
  let off = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) off += lines[i].length + 1;
  const chars = Array.from(lines[Math.min(line, lines.length) - 1] || '');
  return off + chars.slice(0, Math.max(0, col - 1)).join('').length;
}

export function TextEditor(props: { id: string; value: string; onChange: (s: string) => void; problems: Problem[]; disabled?: boolean }) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const lines = props.value.split('\n').length;
  const bad = new Set(props.problems.filter((p) => p.line).map((p) => p.line));
  const jump = (p: Problem) => {
    const t = ref.current;
    if (!t || !p.line) return;
    const off = offsetOf(props.value, p.line, p.column || 1);
    t.focus();
    t.setSelectionRange(off, off + 1);
  };
  return (
    <div class="text-editor">
      <div class={'code' + (props.problems.length ? ' code-invalid' : '')}>
        {/* The numbers are laid out beside the text, not in the flow, so that
            many of them never make the editor taller than the textarea. */}
        <div class="gutter" ref={gutter} aria-hidden="true" style={{ width: `calc(${String(lines).length}ch + 20px)` }}>
          <div class="gutter-lines">
            {Array.from({ length: lines }, (_, i) => (
              <div key={i} class={bad.has(i + 1) ? 'bad' : ''}>
                {i + 1}
              </div>
            ))}
          </div>
        </div>
        <textarea
          id={props.id}
          ref={ref}
          class="mono"
          rows={Math.max(4, Math.min(16, lines + 1))}
          wrap="off"
          spellcheck={false}
          autoCapitalize="off"
          autoComplete="off"
          value={props.value}
          readOnly={props.disabled}
          aria-invalid={props.problems.length > 0}
          aria-describedby={props.problems.length ? props.id + '-problems' : undefined}
          onInput={(e) => props.onChange(e.currentTarget.value)}
          onScroll={(e) => {
            if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
          }}
          onKeyDown={(e) => {
            // Ctrl/Cmd+Enter submits the form (Enter is a new line here).
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            }
          }}
        />
      </div>
      {props.problems.length > 0 && (
        <ul class="problems" id={props.id + '-problems'} role="alert">
          {props.problems.map((p, i) => (
            <li key={i}>
              {p.line ? (
                <button type="button" class="link" onClick={() => jump(p)}>
                  line {p.line}, column {p.column || 1}
                </button>
              ) : p.path ? (
                <code>{p.path}</code>
              ) : null}
              {p.line || p.path ? ': ' : ''}
              {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
