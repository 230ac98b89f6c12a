// A CSS selector for a clicked element that stays the same across page
// loads and deploys, so clicks on the same element add up in a heatmap.
//
// It walks up from the element to the nearest ancestor with a stable ID
// (or to body, or MAX_DEPTH steps), writing each step as tag, up to two
// stable classes, and :nth-of-type when siblings share the tag. Anchored at
// a unique ID or body, that matches the element alone, without a
// querySelectorAll per step to check. IDs and classes that look generated
// (three or more digits in a row, CSS-in-JS prefixes) or that describe a
// passing state (active, open…) are left out.
//
// An element inside an open shadow root is written as its host's selector,
// SHADOW, and its selector inside the root (anchored at an ID there or at
// the root's top): the dashboard finds it through host.shadowRoot.

const MAX_DEPTH = 12;
const STATE = /^(active|hover|focus|focused|open|opened|selected|checked|disabled|visible|hidden|show|shown|is-.*|has-.*)$/;
const GENERATED = /\d{3}|^(css|sc|jsx|svelte|emotion|ng)-/;

function stable(word: string): boolean {
  return /^[A-Za-z][\w-]{0,59}$/.test(word) && !GENERATED.test(word);
}

/** The separator between a shadow host's selector and an element's inside its shadow root. */
export const SHADOW = '>>>';

/** Returns a stable selector for el. */
export function selector(el: Element): string {
  const parts: string[] = [];
  for (let e: Element | null = el; e && parts.length < MAX_DEPTH; e = e.parentElement) {
    const tag = e.tagName.toLowerCase();
    if (tag === 'html') break;
    if (e.id && stable(e.id)) {
      parts.unshift('#' + e.id);
      break;
    }
    let s = tag;
    if (tag === 'body') {
      parts.unshift(s);
      break;
    }
    const classes = (e.getAttribute('class') || '').split(/\s+/);
    let n = 0;
    for (let i = 0; i < classes.length && n < 2; i++) {
      if (classes[i] && stable(classes[i]) && !STATE.test(classes[i])) {
        s += '.' + classes[i];
        n++;
      }
    }
    const parent: Element | ShadowRoot | null = e.parentElement || (typeof ShadowRoot !== 'undefined' && e.parentNode instanceof ShadowRoot ? e.parentNode : null);
    if (parent) {
      let same = 0;
      let index = 0;
      for (let c: Element | null = parent.firstElementChild; c; c = c.nextElementSibling) {
        if (c.tagName === e.tagName) {
          same++;
          if (c === e) index = same;
        }
      }
      if (same > 1) s += ':nth-of-type(' + index + ')';
    }
    parts.unshift(s);
  }
  const inner = parts.join('>');
  const root = el.getRootNode ? el.getRootNode() : null;
  if (typeof ShadowRoot !== 'undefined' && root instanceof ShadowRoot && root.host) {
    return selector(root.host) + SHADOW + inner;
  }
  return inner;
}
