// The install snippet of docs/tracker.md, filled in with this server's
// address and a site's write key.

/** The snippet for a page of the site: the tracker from origin, started with writeKey. */
export function snippet(origin: string, writeKey: string, respectDNT = false): string {
  const options = respectDNT ? ', {respectDNT: true}' : '';
  return `<script>
(function (w, d, s) {
  w.sightline = w.sightline || function () { (w.sightline.q = w.sightline.q || []).push(arguments) };
  s = d.createElement('script'); s.async = 1; s.src = '${origin}/t/sightline.js';
  d.head.appendChild(s);
})(window, document);
sightline('init', '${writeKey}'${options});
</script>`;
}
