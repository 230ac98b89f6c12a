// What the recorder never lets leave the page. rrweb applies these rules
// while it serialises the page, so masked text and values are replaced in
// the browser, before anything is buffered or sent:
//
//   - every form field's value is masked: each character becomes "*"
//     (maskAllInputs); a field inside an element with data-sl-unmask is
//     recorded as typed, except for the digit runs below;
//   - password fields, and fields whose autocomplete names a password or a
//     card's number or code, are blocked: neither their value nor its
//     length is recorded, data-sl-unmask or not;
//   - elements with data-sl-suppress or data-hj-suppress are blocked with
//     everything inside them: only their size is recorded;
//   - in all other text (and unmasked values), every run of 9 or more
//     digits, single spaces, dots or dashes between them allowed (card,
//     account and phone numbers), has its digits replaced by "*".

/** The attribute that lets a field (or text) be recorded as it is. */
export const UNMASK = 'data-sl-unmask';

// Fields that are never recorded, whatever data-sl-unmask says.
const SECRET_FIELDS =
  'input[type=password],input[autocomplete~=current-password],input[autocomplete~=new-password],' +
  'input[autocomplete~=cc-number],input[autocomplete~=cc-csc],input[autocomplete~=one-time-code]';

/** rrweb's blockSelector: suppressed elements and secret fields. */
export const BLOCK = '[data-sl-suppress],[data-hj-suppress],' + SECRET_FIELDS;

// A run of 9 or more digits; one space, dot or dash may stand between two
// of them ("4242 4242 4242 4242", "123-456-789").
const DIGITS = /\d(?:[ .-]?\d){8,}/g;

/** Replaces the digits of every run of 9 or more digits with "*". */
export function maskDigits(text: string): string {
  return text.replace(DIGITS, function (run: string): string {
    return run.replace(/\d/g, '*');
  });
}

function unmasked(el: Element | null): boolean {
  try {
    return !!el && !!el.closest && !!el.closest('[' + UNMASK + ']');
  } catch (e) {
    return false;
  }
}

function secret(el: Element | null): boolean {
  try {
    return !!el && !!el.matches && el.matches(SECRET_FIELDS);
  } catch (e) {
    return true;
  }
}

/**
 * rrweb's maskTextFn, called for every text node (maskTextSelector is
 * "*"): digit runs are masked everywhere.
 */
export function maskText(text: string): string {
  return maskDigits(text);
}

/**
 * rrweb's maskInputFn, called for every field's value (maskAllInputs):
 * "*" for each character, unless the field is under data-sl-unmask (and
 * is no secret), where only digit runs are masked.
 */
export function maskInput(value: string, el: HTMLElement | null): string {
  if (unmasked(el) && !secret(el)) return maskDigits(value);
  return value.replace(/[^]/g, '*');
}

/**
 * The privacy options of rrweb's record(), the same for a session's
 * recording (chunks/recorder.ts) and a heatmap's background
 * (chunks/background.ts), so that both serialise a page alike.
 */
export const recordPrivacy = {
  maskAllInputs: true,
  maskInputFn: maskInput,
  maskTextSelector: '*',
  maskTextFn: maskText,
  blockSelector: BLOCK,
  slimDOMOptions: 'all' as const,
  inlineStylesheet: true,
  recordCanvas: false,
  collectFonts: false,
};
