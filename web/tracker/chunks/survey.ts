// The survey widget, loaded by the core when the site has a live survey.
// On every page view (single-page apps too) it asks GET /t/surveys which
// survey, if any, this visitor should see here; targeting stays on the
// server. It arms the survey's trigger (on load, after a delay, on a
// custom event, on exit intent, at a scroll depth) and then shows it in a
// shadow root, one question at a time, posting each answer as it is given
// (POST /t/survey, completed false, under one response ID) and the last
// with completed true; closing it before the end posts a dismissal.
//
// Accessibility: the survey is a labelled dialog that takes focus when it
// appears and gives it back when it closes; every control has a label;
// scores are a group of toggle buttons with arrow keys, choices are
// native radios and checkboxes; Escape dismisses; each step is announced
// through a polite live region. Nothing here may throw into the page.

import { Bridge, bridge, guard, h, mount, paint, post, device, randomID, activeElement } from './ui/widget';

interface Condition {
  question: string;
  op: string; // eq, in, lte, gte
  value: unknown;
}

interface Question {
  id: string;
  type: string; // nps, rating, single_choice, multiple_choice, text
  prompt: string;
  options?: string[];
  required?: boolean;
  low_label?: string;
  high_label?: string;
  branching?: { if: Condition; goto: string }[];
}

interface Offer {
  id: string;
  questions: Question[];
  thank_you?: { title?: string; message?: string };
  appearance?: { position?: string; background?: string; text?: string; accent?: string };
  trigger?: { type?: string; seconds?: number; event?: string; percent?: number };
}

type Answer = number | string | string[];

const TEXT_MAX = 5000; // the server's limit on a text answer
const THANKS_CLOSE = 8000; // ms the thank-you step stays

const CSS =
  '.bottom-right{right:12px;bottom:12px}.bottom-left{left:12px;bottom:12px}' +
  '.center{left:50%;top:50%;transform:translate(-50%,-50%)}' +
  '.scale{display:grid;gap:4px;grid-template-columns:repeat(11,minmax(0,1fr))}' +
  '.scale.rating{grid-template-columns:repeat(5,minmax(0,1fr))}' +
  '.scale button{padding:6px 0;min-width:0}' +
  '.ends{display:flex;justify-content:space-between;font-size:12px;opacity:.75;margin-top:4px}' +
  '@media (max-width:440px){.scale.nps{grid-template-columns:repeat(6,minmax(0,1fr))}}';

// holds reports whether a branching condition holds for the answers so far;
// a condition on an unanswered question never does.
function holds(c: Condition, answers: Record<string, Answer>): boolean {
  const a = answers[c.question];
  if (a === undefined) return false;
  const given: unknown[] = Array.isArray(a) ? a : [a];
  const list: unknown[] = Array.isArray(c.value) ? c.value : [c.value];
  switch (c.op) {
    case 'eq':
      return given.indexOf(c.value) >= 0;
    case 'in':
      for (let i = 0; i < given.length; i++) if (list.indexOf(given[i]) >= 0) return true;
      return false;
    case 'lte':
      return typeof a === 'number' && typeof c.value === 'number' && a <= c.value;
    case 'gte':
      return typeof a === 'number' && typeof c.value === 'number' && a >= c.value;
  }
  return false;
}

/** One survey on screen. */
class Widget {
  private readonly b: Bridge;
  private readonly offer: Offer;
  private readonly response = randomID();
  private readonly answers: Record<string, Answer> = {};
  private readonly host: HTMLElement;
  private readonly box: HTMLElement;
  private readonly body: HTMLElement;
  private readonly live: HTMLElement;
  private readonly restore: HTMLElement | null;
  private value: Answer | undefined;
  private done = false;
  private closed = false;
  private readonly onClose: () => void;

  constructor(b: Bridge, offer: Offer, onClose: () => void) {
    this.b = b;
    this.offer = offer;
    this.onClose = onClose;
    this.restore = activeElement();
    const m = mount('sightline-survey', CSS);
    this.host = m.host;
    const ap = offer.appearance || {};
    const pos = ap.position === 'bottom-left' || ap.position === 'center' ? ap.position : 'bottom-right';
    this.live = h('p', { class: 'sr', role: 'status', 'aria-live': 'polite' });
    this.body = h('div');
    const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Close survey', onclick: () => this.close(true) }, ['×']);
    this.box = h('div', { class: 'box ' + pos, role: 'dialog', 'aria-labelledby': 'sl-title', 'data-survey': offer.id,
      onkeydown: (e: KeyboardEvent) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          this.close(true);
        }
      } }, [this.live, this.body, close]);
    paint(this.box, ap);
    m.root.appendChild(this.box);
    this.step(0);
  }

  // step shows question i.
  private step(i: number): void {
    const qs = this.offer.questions;
    const q = qs[i];
    this.value = undefined;
    const progress = 'Question ' + (i + 1) + ' of ' + qs.length;
    const error = h('p', { class: 'error', id: 'sl-error', role: 'alert' });
    const next = h('button', { type: 'button', class: 'primary', onclick: () => this.answer(i, error) },
      [i === qs.length - 1 ? 'Submit' : 'Next']);
    const control = this.control(q);
    this.body.textContent = '';
    this.body.appendChild(h('p', { class: 'muted', id: 'sl-progress' }, [progress]));
    this.body.appendChild(h('h2', { id: 'sl-title', tabindex: '-1' }, [q.prompt + (q.required ? ' *' : '')]));
    this.body.appendChild(control);
    this.body.appendChild(error);
    this.body.appendChild(h('div', { class: 'row' }, [h('span', { class: 'muted' }, [q.required ? '* required' : '']), next]));
    this.live.textContent = progress + ': ' + q.prompt;
    const first = control.querySelector('[tabindex="0"],input,textarea') as HTMLElement | null;
    (first || (this.body.querySelector('h2') as HTMLElement)).focus();
  }

  // control returns the input for a question, which sets this.value.
  private control(q: Question): HTMLElement {
    const labelled = { 'aria-labelledby': 'sl-title', 'aria-describedby': 'sl-error' };
    switch (q.type) {
      case 'nps':
      case 'rating':
        return this.scale(q, q.type === 'nps' ? 0 : 1, q.type === 'nps' ? 10 : 5);
      case 'single_choice':
      case 'multiple_choice': {
        const multi = q.type === 'multiple_choice';
        const chosen: string[] = [];
        const opts = q.options || [];
        const set = h('div', { role: multi ? 'group' : 'radiogroup', 'aria-labelledby': 'sl-title', 'aria-describedby': 'sl-error' });
        for (let i = 0; i < opts.length; i++) {
          const o = opts[i];
          const input = h('input', { type: multi ? 'checkbox' : 'radio', name: 'sl-' + q.id, value: o,
            onchange: (e: Event) => {
              const on = (e.target as HTMLInputElement).checked;
              if (!multi) this.value = o;
              else {
                const at = chosen.indexOf(o);
                if (on && at < 0) chosen.push(o);
                if (!on && at >= 0) chosen.splice(at, 1);
                this.value = chosen.length ? opts.filter((x) => chosen.indexOf(x) >= 0) : undefined;
              }
            } });
          set.appendChild(h('label', {}, [input, o]));
        }
        return set;
      }
    }
    const count = h('span', { class: 'muted', 'aria-hidden': 'true' }, ['0 / ' + TEXT_MAX]);
    const area = h('textarea', Object.assign({ maxlength: String(TEXT_MAX), rows: '4',
      oninput: (e: Event) => {
        const v = (e.target as HTMLTextAreaElement).value;
        count.textContent = v.length + ' / ' + TEXT_MAX;
        this.value = v.trim() ? v.slice(0, TEXT_MAX) : undefined;
      } }, labelled));
    return h('div', {}, [area, count]);
  }

  // scale returns a row of score buttons: one tab stop, arrows move.
  private scale(q: Question, lo: number, hi: number): HTMLElement {
    const row = h('div', { class: 'scale ' + q.type, role: 'group', 'aria-labelledby': 'sl-title', 'aria-describedby': 'sl-error' });
    const buttons: HTMLElement[] = [];
    const move = (to: number) => {
      const k = Math.max(0, Math.min(buttons.length - 1, to));
      for (let i = 0; i < buttons.length; i++) buttons[i].setAttribute('tabindex', i === k ? '0' : '-1');
      buttons[k].focus();
    };
    for (let n = lo; n <= hi; n++) {
      let label = String(n);
      if (n === lo && q.low_label) label += ', ' + q.low_label;
      if (n === hi && q.high_label) label += ', ' + q.high_label;
      const idx = n - lo;
      const btn = h('button', { type: 'button', 'aria-pressed': 'false', 'aria-label': label, tabindex: n === lo ? '0' : '-1',
        onclick: () => {
          this.value = n;
          for (let i = 0; i < buttons.length; i++) buttons[i].setAttribute('aria-pressed', i === idx ? 'true' : 'false');
          move(idx);
        },
        onkeydown: (e: KeyboardEvent) => {
          const d = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
          if (d || e.key === 'Home' || e.key === 'End') {
            e.preventDefault();
            move(e.key === 'Home' ? 0 : e.key === 'End' ? buttons.length - 1 : idx + d);
          }
        } }, [String(n)]);
      buttons.push(btn);
      row.appendChild(btn);
    }
    if (!q.low_label && !q.high_label) return row;
    return h('div', {}, [row, h('div', { class: 'ends', 'aria-hidden': 'true' }, [h('span', {}, [q.low_label || '']), h('span', {}, [q.high_label || ''])])]);
  }

  // answer takes question i's answer, posts it and moves on.
  private answer(i: number, error: HTMLElement): void {
    const qs = this.offer.questions;
    const q = qs[i];
    if (this.value === undefined && q.required) {
      error.textContent = 'Please answer this question.';
      const first = this.body.querySelector('[tabindex="0"],input,textarea') as HTMLElement | null;
      if (first) first.focus();
      return;
    }
    if (this.value !== undefined) this.answers[q.id] = this.value;
    let next = i + 1;
    const rules = q.branching || [];
    for (let r = 0; r < rules.length; r++) {
      if (holds(rules[r].if, this.answers)) {
        const to = rules[r].goto;
        next = qs.length;
        for (let k = i + 1; k < qs.length; k++) if (qs[k].id === to) next = k;
        break;
      }
    }
    const last = next >= qs.length;
    if (this.value !== undefined || last) this.send(last);
    if (last) this.thanks();
    else this.step(next);
  }

  private send(completed: boolean): void {
    const ids = this.b.ids();
    const answers: Record<string, Answer> = {};
    for (const k in this.answers) answers[k] = this.answers[k];
    post(this.b, '/t/survey', { survey: this.offer.id, response: this.response, anonymousId: ids.anonymousId,
      userId: ids.userId || undefined, sessionId: ids.sessionId || undefined, url: location.href,
      answers: answers, completed: completed });
    if (completed) this.done = true;
  }

  private thanks(): void {
    const t = this.offer.thank_you || {};
    const title = t.title || 'Thank you!';
    const close = h('button', { type: 'button', class: 'primary', onclick: () => this.close(false) }, ['Close']);
    this.body.textContent = '';
    this.body.appendChild(h('h2', { id: 'sl-title', tabindex: '-1' }, [title]));
    if (t.message) this.body.appendChild(h('p', {}, [t.message]));
    this.body.appendChild(h('div', { class: 'row' }, [h('span'), close]));
    this.live.textContent = title + (t.message ? ' ' + t.message : '');
    close.focus();
    window.setTimeout(guard(() => this.close(false)), THANKS_CLOSE);
  }

  /** Removes the survey; dismiss posts a dismissal unless it was completed. */
  close(dismiss: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (dismiss && !this.done) {
      const ids = this.b.ids();
      post(this.b, '/t/survey/dismiss', { survey: this.offer.id, anonymousId: ids.anonymousId, userId: ids.userId || undefined });
    }
    if (this.host.parentNode) this.host.parentNode.removeChild(this.host);
    if (this.restore && document.contains(this.restore)) this.restore.focus();
    this.onClose();
  }
}

function start(b: Bridge): void {
  let shown: Widget | null = null;
  let seq = 0;
  let disarm: (() => void)[] = [];
  let waitFor: { event: string; offer: Offer } | null = null;

  const show = guard(function (offer: Offer): void {
    clear();
    if (shown || !offer.questions || !offer.questions.length) return;
    shown = new Widget(b, offer, function () {
      shown = null;
    });
  });

  function clear(): void {
    for (let i = 0; i < disarm.length; i++) disarm[i]();
    disarm = [];
    waitFor = null;
  }

  function listen(target: EventTarget, type: string, fn: (e: Event) => void): void {
    const g = guard(fn);
    target.addEventListener(type, g, { passive: true });
    disarm.push(function () {
      target.removeEventListener(type, g);
    });
  }

  // arm waits for the survey's trigger.
  function arm(offer: Offer): void {
    const t = offer.trigger || {};
    switch (t.type) {
      case 'delay': {
        const id = window.setTimeout(function () {
          show(offer);
        }, Math.max(0, Number(t.seconds) || 0) * 1000);
        disarm.push(function () {
          clearTimeout(id);
        });
        return;
      }
      case 'event':
        waitFor = { event: String(t.event || ''), offer: offer };
        return;
      case 'exit_intent':
        listen(document, 'mouseout', function (e: Event) {
          const m = e as MouseEvent;
          if (!m.relatedTarget && m.clientY <= 0) show(offer);
        });
        return;
      case 'scroll': {
        const reached = function (): void {
          const d = document.documentElement;
          const height = Math.max(d.scrollHeight, document.body ? document.body.scrollHeight : 0, 1);
          if (((window.scrollY + window.innerHeight) / height) * 100 >= (Number(t.percent) || 100)) show(offer);
        };
        listen(window, 'scroll', reached);
        reached();
        return;
      }
    }
    show(offer);
  }

  // check asks the server for this page's survey; an answer that comes
  // after the visitor moved on is ignored.
  function check(): void {
    clear();
    const mine = ++seq;
    if (shown) return;
    const ids = b.ids();
    const q = '?k=' + encodeURIComponent(b.key) + '&a=' + encodeURIComponent(ids.anonymousId) +
      (ids.userId ? '&u=' + encodeURIComponent(ids.userId) : '') + '&url=' + encodeURIComponent(location.href) +
      '&device=' + device();
    fetch(b.host + '/t/surveys' + q, { credentials: 'omit' })
      .then(function (r) {
        return r.ok ? r.json() : [];
      })
      .then(
        guard(function (list: unknown) {
          if (mine !== seq || shown || !Array.isArray(list) || !list.length) return;
          arm(list[0] as Offer);
        }),
        function () {
          // no survey this time
        },
      );
  }

  b.on('page', check);
  b.on('event', function (name: string) {
    if (waitFor && waitFor.event === name) show(waitFor.offer);
  });
  check();
}

guard(function () {
  const b = bridge();
  const w = window as Window & { __slSurvey?: 1 };
  if (!b || w.__slSurvey) return;
  w.__slSurvey = 1;
  start(b);
})();
