// The site's event catalog, which the segment builder, the recordings
// filter and the survey trigger read to complete event names and property
// keys (the Events page reads it with users).

import { get, sitePath } from './api';
import { useLoad } from './hooks';
import type { EventInfo } from './types';

/** The site's track events with their properties, the most frequent first, without counting users. */
export function useTrackEvents(site: string) {
  return useLoad(
    (signal) => get<{ events: EventInfo[] }>(sitePath(site, '/events?kind=track&users=false&properties=true'), { signal }).then((r) => r.events),
    [site],
  );
}

/** The property keys of a track event, the most frequent first. */
export function propertyKeys(events: EventInfo[] | undefined, name: string) {
  const e = (events || []).find((x) => x.name === name);
  return (e?.properties || []).slice().sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

/** A datalist of the events' names, for an input's list attribute. */
export function EventNames(props: { id: string; events: EventInfo[] | undefined }) {
  return (
    <datalist id={props.id}>
      {(props.events || []).map((e) => (
        <option key={e.name} value={e.name} />
      ))}
    </datalist>
  );
}
