// Loading, empty and error states.

import type { ComponentChildren } from 'preact';
import { ApiError } from '../api';

/**
 * Whether the same request may work if sent again: the network failed,
 * it timed out, or the server was busy or failing (5xx, such as 503
 * query_timeout or store_lagging). A 4xx answer says what to change
 * first, so sending the same again would only repeat it.
 */
export function transient(e: ApiError): boolean {
  return e.status === 0 || e.status === 408 || e.status === 429 || e.status >= 500;
}

/** A load error in place of content, with a way to try again when that may help. */
export function LoadError(props: { error: ApiError; retry?: () => void }) {
  return (
    <div class="alert alert-error" role="alert">
      <p>{props.error.message}</p>
      {props.retry && transient(props.error) && (
        <button type="button" class="btn btn-small" onClick={props.retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A placeholder while something loads. */
export function Loading(props: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      {props.label || 'Loading…'}
    </p>
  );
}

/** What a page says when it has nothing to show, and what to do about it. */
export function Empty(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{props.title}</p>
      {props.children && <div class="empty-body">{props.children}</div>}
    </div>
  );
}

/** A short confirmation of something that worked. */
export function Notice(props: { children: ComponentChildren }) {
  return (
    <div class="alert alert-ok" role="status">
      {props.children}
    </div>
  );
}
