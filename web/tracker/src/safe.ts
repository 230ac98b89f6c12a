// Nothing the tracker does may throw into the host page: every entry point
// (commands, event listeners, timers, promise callbacks) runs through safe.

let debug = false;

/** Turns on console warnings for errors the tracker swallows. */
export function setDebug(on: boolean): void {
  debug = on;
}

/** Returns fn wrapped so that it never throws. */
export function safe<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return function (this: unknown, ...args: A): void {
    try {
      fn.apply(this, args);
    } catch (e) {
      if (debug) {
        try {
          console.warn('sightline:', e);
        } catch (e2) {
          // no console
        }
      }
    }
  };
}
