// The bridge between the core and its lazily loaded chunks (the survey
// widget, the feedback tab). A chunk is a separate script, so it cannot
// import the core's modules; it reads window.sightline.c instead, which
// the core sets once the site's config arrived. The bridge gives the
// visitor's IDs, the site's config, the core's selector function and a
// way to hear about page views and custom events; the core calls notify
// from its own paths, so neither side imports the other.

import { identity } from './core';
import { selector } from './selector';
import { safe } from './safe';
import { loadChunk } from './chunks';

type Listener = (name: string, props: Record<string, unknown>) => void;

/** What a chunk reads from window.sightline.c. */
export interface Bridge {
  host: string;
  key: string;
  config: Record<string, unknown>;
  ids(): { anonymousId: string; userId: string; sessionId: string };
  on(kind: 'page' | 'event', fn: Listener): void;
  selector(el: Element): string;
}

const listeners: { kind: string; fn: Listener }[] = [];

/** Tells the chunks' listeners of kind ('page' or 'event') what happened. */
export function notify(kind: 'page' | 'event', name: string, props: Record<string, unknown>): void {
  for (let i = 0; i < listeners.length; i++) if (listeners[i].kind === kind) safe(listeners[i].fn)(name, props);
}

/** Adds a listener of kind ('page' or 'event'): for the chunks, through their bridges. */
export function listen(kind: 'page' | 'event', fn: Listener): void {
  if (typeof fn === 'function') listeners.push({ kind: kind, fn: fn });
}

let bridge: Bridge | null = null;

/** Keeps the site's config for the chunks. */
export function configure(host: string, key: string, config: Record<string, unknown>): void {
  bridge = {
    host: host,
    key: key,
    config: config,
    ids: identity,
    on: listen,
    selector: selector,
  };
}

/**
 * Publishes the bridge and loads the chunks the config asks for: the
 * survey widget when a survey is live, the feedback tab when it is on.
 * The caller runs it once capture is allowed.
 */
export function startChunks(): void {
  if (!bridge) return;
  const w = window as Window & { sightline?: { c?: Bridge } };
  if (w.sightline) w.sightline.c = bridge;
  const c = bridge.config;
  if (c.surveys === true) loadChunk(bridge.host, 'survey');
  const fb = c.feedback as { enabled?: unknown } | undefined;
  if (fb && fb.enabled === true) loadChunk(bridge.host, 'feedback');
}
