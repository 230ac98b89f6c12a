// Verifies signed messages with the Standard Webhooks reference library
// for JavaScript (npm: standardwebhooks), independent of Sightline's Go
// signer. Reads [{secrets, id, ts, sig, body, valid}] on stdin; prints one
// line per message: "ok", or what went wrong.
import { Webhook } from 'standardwebhooks';

let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  for (const m of JSON.parse(input)) {
    const headers = { 'webhook-id': m.id, 'webhook-timestamp': String(m.ts), 'webhook-signature': m.sig };
    const results = m.secrets.map((s) => {
      try {
        new Webhook(s).verify(m.body, headers);
        return true;
      } catch (e) {
        return false;
      }
    });
    const want = m.valid;
    console.log(results.every((r) => r === want) ? 'ok' : `${m.id}: verified ${JSON.stringify(results)}, want ${want}`);
  }
});
