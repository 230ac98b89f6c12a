// The one way the dashboard talks to the server: JSON over fetch, with the
// session cookie, the CSRF token on every state-changing request, and
// errors in the API's one format turned into ApiError.

import type { Problem } from './types';

/** An error answer of the API: {"error": {"code", "field", "message", "details"}}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details?: Problem[],
  ) {
    super(message);
  }
}

let csrfToken = '';
let onSignedOut: (() => void) | null = null;

/** Sets the CSRF token sent with POST, PUT, PATCH and DELETE. */
export function setCSRF(token: string): void {
  csrfToken = token;
}

/** Sets what happens when the session ends (any 401 outside sign-in). */
export function whenSignedOut(fn: () => void): void {
  onSignedOut = fn;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Do not treat a 401 as the end of the session (sign-in, setup). */
  quiet401?: boolean;
}

/** Sends a request and decodes the JSON answer; throws ApiError. */
export async function api<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data && data.error;
    const err = e
      ? new ApiError(res.status, e.code || 'error', e.message || res.statusText, e.field, e.details)
      : new ApiError(res.status, 'http_' + res.status, `The server answered ${res.status} ${res.statusText}.`);
    if (res.status === 401 && !opts.quiet401 && onSignedOut) onSignedOut();
    throw err;
  }
  return data as T;
}

export const get = <T>(path: string, opts?: RequestOptions) => api<T>('GET', path, undefined, opts);
export const post = <T>(path: string, body?: unknown, opts?: RequestOptions) => api<T>('POST', path, body ?? {}, opts);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

/** The API path of a site: sitePath('s_1', '/users') is /api/v1/sites/s_1/users. */
export function sitePath(site: string, rest = ''): string {
  return '/api/v1/sites/' + encodeURIComponent(site) + rest;
}

/** Builds a query string from the parameters that are set. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const k in params) {
    const v = params[k];
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

/** True for the error fetch raises when a request is cancelled. */
export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}
