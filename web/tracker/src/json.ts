// JSON the server takes: it refuses text that is not Unicode, and a
// JavaScript string may hold half of a surrogate pair (a title or an error
// message cut in the middle of an emoji). JSON.stringify writes such a
// half as \udXXX; here it becomes U+FFFD, the replacement character, so
// that one broken character does not cost the whole message.

// An escaped backslash, a surrogate pair, or a lone half.
const surrogates = /\\\\|\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}|\\ud[89a-f][0-9a-f]{2}/gi;

/** JSON.stringify with every lone surrogate replaced by U+FFFD. */
export function toJSON(v: unknown): string {
  const s = JSON.stringify(v);
  return s.indexOf('\\ud') < 0 && s.indexOf('\\uD') < 0
    ? s
    : s.replace(surrogates, function (m) {
        return m.length === 6 ? '\\ufffd' : m;
      });
}
