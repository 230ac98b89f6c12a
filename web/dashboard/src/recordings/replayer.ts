// rrweb's replayer, loaded on demand: the player's page imports this
// module dynamically, so the dashboard's main bundle stays small and the
// replayer arrives in parallel with the recording's events.
//
// The replayer rebuilds the recorded page inside an iframe that it
// sandboxes with "allow-same-origin" only: no script of the recorded page
// can run (the recorder does not even keep their text). The iframe
// inherits the dashboard's Content-Security-Policy, which therefore
// allows inline styles (the recorded page's stylesheets are rebuilt as
// <style> elements) but never inline or foreign scripts.

export { Replayer } from '@rrweb/replay';
