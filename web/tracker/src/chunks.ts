// Lazily loaded parts of the tracker (session recording and the survey
// widget, when they come) are built as separate scripts so that the core
// stays small. The build bakes CHUNKS, each chunk's name → its versioned
// file name (NAME-HASH.js), into the core; loadChunk adds the chunk's
// <script> once. A chunk's file name changes with its content, so the
// server lets browsers cache it for a year.

declare const CHUNKS: Record<string, string>;

const requested: Record<string, 1> = {};

/**
 * Loads the chunk called name from host's /t/chunks/, once; it reports
 * whether this build has such a chunk.
 */
export function loadChunk(host: string, name: string): boolean {
  const file = CHUNKS[name];
  if (!file || !Object.prototype.hasOwnProperty.call(CHUNKS, name)) return false;
  if (requested[name]) return true;
  requested[name] = 1;
  const s = document.createElement('script');
  s.async = true;
  s.setAttribute('data-sl', name); // the dead-click watch ignores it
  s.src = host + '/t/chunks/' + file;
  (document.head || document.documentElement).appendChild(s);
  return true;
}
