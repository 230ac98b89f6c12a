// The saved insights pinned to the site's overview: each computed live,
// its chart with the table beside it (what a keyboard or a screen reader
// reads), a link to open it on the Insights page and a button to unpin.

import { del, get, post, sitePath } from '../api';
import { LoadError, Loading } from '../components/feedback';
import { useLoad } from '../hooks';
import { Link, navigate } from '../router';
import { FunnelView, RetentionView, TrendView } from './views';
import './insights.css';
import type { Annotation, FunnelResult, FunnelStep, InsightAnswer, RetentionResult, SavedInsight, SegmentRef, TrendResult } from './types';

export function PinnedInsights(props: { site: string; canWrite: boolean }) {
  const list = useLoad((signal) => get<{ insights: SavedInsight[] }>(sitePath(props.site, '/insights'), { signal }), [props.site]);
  const annotations = useLoad((signal) => get<{ annotations: Annotation[] }>(sitePath(props.site, '/annotations'), { signal }), [props.site]);
  if (list.error) return <LoadError error={list.error} retry={list.reload} />;
  const pinned = (list.data?.insights || []).filter((i) => i.pinned);
  if (pinned.length === 0) return null;
  return (
    <section class="overview-pinned" aria-labelledby="pinned-insights-title">
      <h2 id="pinned-insights-title">Pinned insights</h2>
      {pinned.map((i) => (
        <PinnedInsight key={i.id + i.updated_at} site={props.site} insight={i} annotations={annotations.data?.annotations || []} canWrite={props.canWrite} unpinned={list.reload} />
      ))}
    </section>
  );
}

function PinnedInsight(props: { site: string; insight: SavedInsight; annotations: Annotation[]; canWrite: boolean; unpinned: () => void }) {
  const { site, insight: ins } = props;
  const res = useLoad((signal) => get<InsightAnswer<any>>(sitePath(site, `/insights/${encodeURIComponent(ins.id)}/results`), { signal }), [site, ins.id, ins.updated_at]);
  const titleID = 'pinned-' + ins.id;
  // The users who dropped at a step of the funnel: funnel_step names the
  // saved funnel; a breakdown group adds its segment.
  const droppedText = (group: number, step: FunnelStep) => {
    let text = `funnel_step("${ins.id}") = ${step.step - 1}`;
    const ref: SegmentRef | undefined = group > 0 ? (ins.definition?.breakdown?.segments || [])[group - 1] : undefined;
    if (ref?.id) text += ` and in_segment("${ref.id}")`;
    else if (ref?.text) text += ` and (${ref.text})`;
    return text;
  };
  const actions = {
    recordings: (group: number, step: FunnelStep) =>
      navigate(`/s/${encodeURIComponent(site)}/recordings?text=${encodeURIComponent(droppedText(group, step))}`),
    saveSegment: async (group: number, step: FunnelStep) => {
      const seg = await post<{ id: string }>(sitePath(site, '/segments'), { name: `Dropped at step ${step.step} of ${ins.name}`, text: droppedText(group, step) });
      navigate(`/s/${encodeURIComponent(site)}/segments/${encodeURIComponent(seg.id)}`);
    },
  };
  return (
    <article class="card pinned-insight" aria-labelledby={titleID} data-testid={'pinned-' + ins.id}>
      <div class="card-head">
        <h3 id={titleID}>{ins.name}</h3>
        <span class="pinned-actions">
          <Link href={`/s/${encodeURIComponent(site)}/insights?id=${encodeURIComponent(ins.id)}`} class="btn btn-small">
            Open in Insights
          </Link>
          {props.canWrite && (
            <button
              type="button"
              class="btn btn-small btn-ghost"
              aria-label={'Unpin ' + ins.name + ' from the overview'}
              onClick={async () => {
                await del(sitePath(site, `/insights/${encodeURIComponent(ins.id)}/pin`));
                props.unpinned();
              }}
            >
              Unpin
            </button>
          )}
        </span>
      </div>
      {res.error ? (
        <LoadError error={res.error} retry={res.reload} />
      ) : !res.data ? (
        <Loading label={'Computing ' + ins.name + '…'} />
      ) : ins.kind === 'trend' ? (
        <TrendView result={res.data.result as TrendResult} annotations={props.annotations} />
      ) : ins.kind === 'funnel' ? (
        <FunnelView result={res.data.result as FunnelResult} actions={actions} />
      ) : (
        <RetentionView result={res.data.result as RetentionResult} />
      )}
    </article>
  );
}
