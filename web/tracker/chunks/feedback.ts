// The feedback tab, loaded by the core when the site turned feedback on.
// A tab stays at the configured edge of the page; it opens a small form
// with a 1–5 rating, an optional comment and, optionally, an element of
// the page the visitor points at (its stable selector, from the core).
// The page's address goes with it. It posts POST /t/feedback.
//
// Like the survey widget it lives in a shadow root, so the page's styles
// neither reach it nor are touched by it; it is a labelled dialog that
// takes focus when opened and gives it back to the tab when closed, the
// rating is a group of toggle buttons with arrow keys, and Escape closes
// it (or cancels pointing at an element).

import { Bridge, bridge, guard, h, mount, paint, post } from './ui/widget';

interface Settings {
  enabled?: boolean;
  position?: string; // right, left, bottom-right, bottom-left
  background?: string;
  text?: string;
  accent?: string;
  prompt?: string;
}

const COMMENT_MAX = 2000; // the server's limit
const WORDS = ['Very bad', 'Bad', 'OK', 'Good', 'Very good'];

const CSS =
  '.tab{position:fixed;background:var(--accent);color:#fff;border:0;border-radius:8px 8px 0 0;' +
  'font:600 14px/1.2 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;' +
  'box-shadow:0 2px 10px rgba(0,0,0,.2);padding:8px 14px}' +
  '.tab.right{right:0;top:50%;transform:translate(calc(50% - 20px),-50%) rotate(-90deg)}' +
  '.tab.left{left:0;top:50%;transform:translate(calc(-50% + 20px),-50%) rotate(90deg)}' +
  '.tab.bottom-right{right:16px;bottom:0}.tab.bottom-left{left:16px;bottom:0}' +
  '.box.right,.box.bottom-right{right:12px;bottom:12px}.box.left,.box.bottom-left{left:12px;bottom:12px}' +
  '.stars{display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:6px;margin-bottom:4px}' +
  '.stars button{padding:6px 0;min-width:0}' +
  '.ends{display:flex;justify-content:space-between;font-size:12px;opacity:.75;margin-bottom:12px}' +
  'label.above{display:block;padding:0 0 4px}' +
  '.picked{font:12px/1.3 ui-monospace,Menlo,Consolas,monospace;word-break:break-all;margin:8px 0}' +
  '.mark{position:fixed;pointer-events:none;border:2px solid var(--accent);background:rgba(79,70,229,.12);border-radius:3px}' +
  '.hint{position:fixed;left:50%;top:12px;transform:translateX(-50%);background:#111827;color:#fff;padding:8px 12px;' +
  'border-radius:8px;font:14px/1.3 system-ui,sans-serif}';

function start(b: Bridge, s: Settings): void {
  const m = mount('sightline-feedback', CSS);
  const pos = s.position === 'left' || s.position === 'bottom-left' || s.position === 'bottom-right' ? s.position : 'right';
  const prompt = s.prompt || 'How would you rate this page?';
  const tab = h('button', { type: 'button', class: 'tab ' + pos, 'aria-haspopup': 'dialog', 'aria-expanded': 'false',
    onclick: function () {
      open();
    } }, ['Feedback']);
  paint(tab, s);
  m.root.appendChild(tab);

  let box: HTMLElement | null = null;
  let rating = 0;
  let selected = '';

  function open(): void {
    if (box) return;
    rating = 0;
    selected = '';
    const live = h('p', { class: 'sr', role: 'status', 'aria-live': 'polite' });
    const error = h('p', { class: 'error', id: 'sl-error', role: 'alert' });
    const buttons: HTMLElement[] = [];
    const move = function (to: number): void {
      const k = Math.max(0, Math.min(4, to));
      for (let i = 0; i < 5; i++) buttons[i].setAttribute('tabindex', i === k ? '0' : '-1');
      buttons[k].focus();
    };
    const stars = h('div', { class: 'stars', role: 'group', 'aria-labelledby': 'sl-title', 'aria-describedby': 'sl-error' });
    for (let i = 0; i < 5; i++) {
      const n = i + 1;
      const btn = h('button', { type: 'button', 'aria-pressed': 'false', 'aria-label': n + ' of 5, ' + WORDS[i],
        tabindex: i === 0 ? '0' : '-1',
        onclick: function () {
          rating = n;
          for (let k = 0; k < 5; k++) buttons[k].setAttribute('aria-pressed', k === i ? 'true' : 'false');
          move(i);
        },
        onkeydown: function (e: KeyboardEvent) {
          const d = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
          if (d) {
            e.preventDefault();
            move(i + d);
          }
        } }, [String(n)]);
      buttons.push(btn);
      stars.appendChild(btn);
    }
    const comment = h('textarea', { id: 'sl-comment', maxlength: String(COMMENT_MAX), rows: '3' }) as HTMLTextAreaElement;
    const picked = h('p', { class: 'picked', 'aria-live': 'polite' });
    const point = h('button', { type: 'button', onclick: function () {
      pick(function (sel: string) {
        selected = sel;
        picked.textContent = sel ? 'Element: ' + sel : '';
        point.textContent = sel ? 'Point at another element' : 'Point at an element';
        point.focus();
      });
    } }, ['Point at an element']);
    const send = h('button', { type: 'submit', class: 'primary' }, ['Send']);
    const form = h('form', { novalidate: true, onsubmit: function (e: Event) {
      e.preventDefault();
      if (!rating) {
        error.textContent = 'Choose a rating from 1 to 5.';
        buttons[0].focus();
        return;
      }
      const ids = b.ids();
      send.setAttribute('disabled', '');
      post(b, '/t/feedback', { anonymousId: ids.anonymousId, userId: ids.userId || undefined,
        sessionId: ids.sessionId || undefined, url: location.href, rating: rating,
        comment: comment.value.slice(0, COMMENT_MAX) || undefined, selector: selected || undefined }).then(guard(function (ok: boolean) {
        if (!box) return;
        if (!ok) {
          send.removeAttribute('disabled');
          error.textContent = 'Your feedback could not be sent. Please try again.';
          return;
        }
        const done = h('button', { type: 'button', class: 'primary', onclick: close }, ['Close']);
        form.textContent = '';
        form.appendChild(h('h2', { id: 'sl-title' }, ['Thank you for your feedback!']));
        form.appendChild(h('div', { class: 'row' }, [h('span'), done]));
        live.textContent = 'Thank you for your feedback!';
        done.focus();
      }));
    } }, [
      h('h2', { id: 'sl-title' }, [prompt]),
      stars,
      h('div', { class: 'ends', 'aria-hidden': 'true' }, [h('span', {}, [WORDS[0]]), h('span', {}, [WORDS[4]])]),
      h('label', { for: 'sl-comment', class: 'above' }, ['Comment (optional)']),
      comment,
      picked,
      error,
      h('div', { class: 'row' }, [point, send]),
    ]);
    box = h('div', { class: 'box ' + pos, role: 'dialog', 'aria-labelledby': 'sl-title',
      onkeydown: function (e: KeyboardEvent) {
        if (e.key === 'Escape') {
          e.stopPropagation();
          close();
        }
      } }, [live, form, h('button', { type: 'button', class: 'close', 'aria-label': 'Close feedback', onclick: close }, ['×'])]);
    paint(box, s);
    m.root.appendChild(box);
    tab.setAttribute('aria-expanded', 'true');
    tab.style.display = 'none';
    buttons[0].focus();
  }

  function close(): void {
    if (!box) return;
    m.root.removeChild(box);
    box = null;
    tab.style.display = '';
    tab.setAttribute('aria-expanded', 'false');
    tab.focus();
  }

  // pick lets the visitor click an element of the page: it is outlined
  // under the pointer, a click selects it (and does nothing else), Escape
  // cancels. done gets its selector, or '' when cancelled.
  function pick(done: (sel: string) => void): void {
    if (!box) return;
    box.style.display = 'none';
    const mark = h('div', { class: 'mark' });
    const hint = h('div', { class: 'hint', role: 'status' }, ['Click the element your feedback is about (Escape to cancel)']);
    paint(mark, s);
    m.root.appendChild(mark);
    m.root.appendChild(hint);
    const target = function (e: Event): Element | null {
      const t = e.target as Element | null;
      return t && t !== m.host && t.nodeType === 1 ? t : null;
    };
    const over = guard(function (e: Event) {
      const t = target(e);
      if (!t) return;
      const r = t.getBoundingClientRect();
      mark.style.cssText = 'left:' + r.left + 'px;top:' + r.top + 'px;width:' + r.width + 'px;height:' + r.height + 'px';
    });
    const stop = function (sel: string): void {
      document.removeEventListener('mouseover', over, true);
      document.removeEventListener('click', click, true);
      document.removeEventListener('keydown', key, true);
      m.root.removeChild(mark);
      m.root.removeChild(hint);
      if (box) box.style.display = '';
      done(sel);
    };
    const click = guard(function (e: Event) {
      const t = target(e);
      if (!t) return;
      e.preventDefault();
      e.stopPropagation();
      stop(b.selector(t));
    });
    const key = guard(function (e: Event) {
      if ((e as KeyboardEvent).key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        stop(selected);
      }
    });
    document.addEventListener('mouseover', over, true);
    document.addEventListener('click', click, true);
    document.addEventListener('keydown', key, true);
  }
}

guard(function () {
  const b = bridge();
  const w = window as Window & { __slFeedback?: 1 };
  if (!b || w.__slFeedback) return;
  const s = (b.config.feedback || {}) as Settings;
  if (s.enabled !== true) return;
  w.__slFeedback = 1;
  start(b, s);
})();
