// Where the tracker keeps what must outlive a page: first-party cookies,
// falling back to localStorage when cookies cannot be written (a browser
// that blocks them, a sandboxed frame), and to memory when neither works.

const memory: Record<string, string> = {};

function local(): Storage | null {
  try {
    return window.localStorage;
  } catch (e) {
    return null; // access throws when storage is disabled
  }
}

/** Reads a value from localStorage only (settings such as opt-out). */
export function localGet(name: string): string | null {
  try {
    const s = local();
    return s ? s.getItem(name) : null;
  } catch (e) {
    return null;
  }
}

/** Writes (or, with null, removes) a value in localStorage only. */
export function localSet(name: string, value: string | null): void {
  try {
    const s = local();
    if (!s) return;
    if (value === null) s.removeItem(name);
    else s.setItem(name, value);
  } catch (e) {
    // quota or privacy mode: the setting lasts for this page only
  }
}

function readCookie(name: string): string | undefined {
  const m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
  return m ? decodeURIComponent(m[1]) : undefined;
}

function writeCookie(name: string, value: string, maxAge: number): void {
  document.cookie =
    name + '=' + encodeURIComponent(value) + '; Max-Age=' + maxAge + '; Path=/; SameSite=Lax' +
    (location.protocol === 'https:' ? '; Secure' : '');
}

/** Reads a persistent value: cookie, else localStorage, else memory. */
export function get(name: string): string | undefined {
  try {
    const c = readCookie(name);
    if (c) return c;
  } catch (e) {
    // document.cookie throws in sandboxed frames
  }
  return localGet(name) || memory[name];
}

/**
 * Writes a persistent value that expires after maxAge seconds (only the
 * cookie expires; the localStorage fallback is read back with its own
 * checks, as the session is).
 */
export function set(name: string, value: string, maxAge: number): void {
  memory[name] = value;
  try {
    writeCookie(name, value, maxAge);
    if (readCookie(name) === value) {
      localSet(name, null);
      return;
    }
  } catch (e) {
    // fall through to localStorage
  }
  localSet(name, value);
}

/** Removes a persistent value everywhere it may be. */
export function del(name: string): void {
  delete memory[name];
  try {
    writeCookie(name, '', 0);
  } catch (e) {
    // no cookies here
  }
  localSet(name, null);
}

/** Returns 32 random hex digits. */
export function newID(): string {
  const b = new Uint8Array(16);
  const c = window.crypto;
  if (c && c.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = (Math.random() * 256) | 0;
  let s = '';
  for (let i = 0; i < 16; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}
