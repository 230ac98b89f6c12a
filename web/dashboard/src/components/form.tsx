// Form building blocks: a labelled field with its error beside it, the
// form-level error, and a submit hook that tracks busy state and errors.

import type { ComponentChildren, TargetedEvent } from 'preact';
import { useCallback, useId, useState } from 'preact/hooks';
import { ApiError } from '../api';

export interface FieldProps {
  id: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
}

/** A label, a control (rendered by children with the ids to use), a hint and an error. */
export function Field(props: {
  label: ComponentChildren;
  error?: string;
  hint?: ComponentChildren;
  class?: string;
  children: (p: FieldProps) => ComponentChildren;
}) {
  const id = useId();
  const hintID = id + '-hint';
  const errID = id + '-err';
  const describedBy = [props.hint ? hintID : '', props.error ? errID : ''].filter(Boolean).join(' ');
  return (
    <div class={'field' + (props.error ? ' field-invalid' : '') + (props.class ? ' ' + props.class : '')}>
      <label for={id}>{props.label}</label>
      {props.children({ id, 'aria-invalid': props.error ? true : undefined, 'aria-describedby': describedBy || undefined })}
      {props.hint && (
        <p class="hint" id={hintID}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="field-error" id={errID} role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

/** The message of err when it is about field. */
export function fieldError(err: unknown, field: string): string | undefined {
  return err instanceof ApiError && err.field === field ? err.message : undefined;
}

/** An error for the whole form: any error not shown beside one of fields. */
export function FormError(props: { error: unknown; fields?: string[] }) {
  const e = props.error;
  if (!e) return null;
  if (e instanceof ApiError && e.field && props.fields && props.fields.includes(e.field)) return null;
  return (
    <div class="alert alert-error" role="alert">
      {messageOf(e)}
    </div>
  );
}

/** A person's message for any error. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export interface Submit {
  busy: boolean;
  error: unknown;
  onSubmit: (e: TargetedEvent<HTMLFormElement, Event>) => void;
  run: () => Promise<void>;
  setError: (e: unknown) => void;
}

/** Wraps an async action for a form: prevents the page load, marks busy, keeps the error. */
export function useSubmit(action: () => Promise<void>): Submit {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async () => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }, [action]);
  return {
    busy,
    error,
    setError,
    run,
    onSubmit: (e) => {
      e.preventDefault();
      if (!busy) void run();
    },
  };
}
