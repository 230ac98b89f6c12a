// Text to copy (a key, a snippet, an invite link) with a copy button.

import { useEffect, useId, useRef, useState } from 'preact/hooks';

async function copyText(text: string, fallback: HTMLTextAreaElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Denied: fall back to selecting the text.
  }
  if (!fallback) return false;
  fallback.focus();
  fallback.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/** Shows text read-only with a button that copies it. */
export function CopyBox(props: { label: string; text: string; multiline?: boolean }) {
  const id = useId();
  const ref = useRef<HTMLTextAreaElement>(null);
  const [state, setState] = useState<'' | 'copied' | 'failed'>('');
  useEffect(() => {
    if (!state) return;
    const t = setTimeout(() => setState(''), 2500);
    return () => clearTimeout(t);
  }, [state]);
  const lines = props.multiline ? Math.min(14, props.text.split('\n').length + 1) : 1;
  return (
    <div class="copybox">
      <label for={id}>{props.label}</label>
      <div class="copybox-row">
        <textarea
          id={id}
          ref={ref}
          readOnly
          rows={lines}
          class={'mono' + (props.multiline ? '' : ' copybox-single')}
          value={props.text}
          spellcheck={false}
          onFocus={(e) => (e.currentTarget as HTMLTextAreaElement).select()}
        />
        <button
          type="button"
          class="btn btn-small"
          onClick={async () => setState((await copyText(props.text, ref.current)) ? 'copied' : 'failed')}
        >
          Copy
        </button>
      </div>
      <p class="hint" role="status" aria-live="polite">
        {state === 'copied' ? 'Copied to the clipboard.' : state === 'failed' ? 'Could not copy: select the text and copy it.' : ''}
      </p>
    </div>
  );
}
