// Who gave an answer or a piece of feedback: a link to their profile, their
// key attributes, and the recording of the visit (else their recordings).

import { Value } from '../components/values';
import { Link } from '../router';
import { userLinks } from './types';
import type { AttrValue } from './types';

/** The respondent cell of a survey answer or feedback row. */
export function Respondent(props: {
  site: string;
  userID: string;
  anonymousID: string;
  recordingID?: string;
  hasRecordings?: boolean;
  attributes: Record<string, AttrValue>;
}) {
  const links = userLinks(props.site, props.userID, props.anonymousID, props.recordingID, props.hasRecordings);
  const attrs = props.attributes || {};
  return (
    <td>
      <Link href={links.profile}>{props.userID || 'anonymous ' + props.anonymousID.slice(0, 8)}</Link>
      <div class="sub">
        {Object.keys(attrs).map((k) => (
          <span key={k} class="attr-pair">
            {k}: <Value value={attrs[k].value} type={attrs[k].type} />{' '}
          </span>
        ))}
      </div>
      {links.recordings && (
        <Link href={links.recordings} class="sub">
          {links.recordingLabel}
        </Link>
      )}
    </td>
  );
}
