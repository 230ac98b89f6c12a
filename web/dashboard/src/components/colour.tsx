// A colour field: the browser's picker beside the colour as hex text,
// either of which can be edited. The text takes #rgb and #rrggbb (the
// forms the API accepts); the picker only knows #rrggbb, so #0af is shown
// to it as #00aaff. Anything else is refused beside the field.

import { useEffect, useId, useState } from 'preact/hooks';

const hexRe = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;

/** Whether s is a colour the API accepts: #rgb or #rrggbb. */
export function validColour(s: string): boolean {
  return hexRe.test(s);
}

/** What a person typed, with the # added when they left it out (0af is #0af). */
function withHash(s: string): string {
  const t = s.trim();
  return /^[0-9a-f]{3}([0-9a-f]{3})?$/i.test(t) ? '#' + t : t;
}

/** #rgb as #rrggbb, lower case; other valid colours lower-cased; invalid ones as given. */
export function expandColour(s: string): string {
  if (!validColour(s)) return s;
  const h = s.slice(1).toLowerCase();
  return '#' + (h.length === 3 ? h.replace(/./g, (c) => c + c) : h);
}

export function ColourField(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  /** The server's error about this field. */
  error?: string;
  disabled?: boolean;
  /** Shown in the picker while value is empty. */
  fallback?: string;
}) {
  const id = useId();
  const [text, setText] = useState(props.value || '');
  const [left, setLeft] = useState(false);
  // A new value from outside (loaded, saved, picked) replaces the text.
  useEffect(() => {
    if (expandColour(props.value || '') !== expandColour(text)) setText(props.value || '');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.value]);
  const typed = withHash(text);
  const own = typed !== '' && !validColour(typed) && left ? `"${typed}" is not a colour: write #rgb or #rrggbb, like #0af or #4f46e5.` : '';
  const error = own || props.error;
  const errID = id + '-err';
  return (
    <div class={'field colour-field' + (error ? ' field-invalid' : '')}>
      <label for={id}>{props.label}</label>
      <div class="colour-row">
        <input
          type="color"
          aria-label={props.label + ' (picker)'}
          value={validColour(typed) ? expandColour(typed) : expandColour(props.fallback || '#ffffff')}
          disabled={props.disabled}
          onInput={(e) => {
            const v = e.currentTarget.value;
            setText(v);
            setLeft(false);
            props.onChange(v);
          }}
        />
        <input
          id={id}
          class="mono colour-hex"
          value={text}
          maxLength={7}
          spellcheck={false}
          autoComplete="off"
          placeholder="#rrggbb"
          disabled={props.disabled}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errID : undefined}
          onInput={(e) => {
            setText(e.currentTarget.value);
            props.onChange(withHash(e.currentTarget.value));
          }}
          onBlur={() => setLeft(true)}
        />
      </div>
      {error && (
        <p class="field-error" id={errID} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
