// The Experiments pages: the site's A/B tests, a form for a new one, and
// each one's results — exposure per variant with the sample-ratio check,
// and per goal each variant's conversion with its 95% interval, its lift
// over the control with its interval, and whether the difference is
// significant.

import { useState } from 'preact/hooks';
import { del, get, post, sitePath } from '../api';
import { Empty, LoadError, Loading } from '../components/feedback';
import { Field, FormError, fieldError, useSubmit } from '../components/form';
import { formatCount, formatDate, plural } from '../format';
import { useLoad, useTitle } from '../hooks';
import { heatmapsHref } from '../pages/heatmaps';
import { recordingsHref } from '../pages/recordings';
import { Link, navigate, type PageProps } from '../router';
import { allows, siteAccess, useSession, useSite } from '../session';
import { num, pct, pval, signedPct } from './format';
import type { Arm, ExperimentDef, ExperimentResults, Part } from './types';
import './compare.css';

const base = (site: string) => `/s/${encodeURIComponent(site)}/experiments`;

function split(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

export function ExperimentsPage() {
  const site = useSite();
  const { me } = useSession();
  useTitle('Experiments — ' + site.name);
  const canWrite = allows(siteAccess(site, me.account.role), 'write');
  const list = useLoad((signal) => get<{ experiments: ExperimentDef[] }>(sitePath(site.id, '/experiments'), { signal }), [site.id]);
  const [creating, setCreating] = useState(false);
  return (
    <section class="experiment">
      <div class="page-head">
        <h1>Experiments</h1>
        {canWrite && !creating && (
          <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
            New experiment
          </button>
        )}
      </div>
      <p class="lead">
        A/B tests read from what users did: the variant comes from an attribute (such as <code>ab_variant</code>) or from the tracker's{' '}
        <code>sightline('experiment', 'onboarding_v2', 'B')</code>. Each variant is compared with the control on every goal.
      </p>
      {creating && <NewExperiment site={site.id} onCancel={() => setCreating(false)} />}
      {list.error ? (
        <LoadError error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : list.data.experiments.length === 0 ? (
        <Empty title="No experiments yet" />
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Variants</th>
                <th scope="col">Goals</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {list.data.experiments.map((e) => (
                <tr data-experiment={e.name}>
                  <th scope="row">
                    <Link href={base(site.id) + '/' + encodeURIComponent(e.id || '')}>{e.name}</Link>
                  </th>
                  <td>{e.variants.map((v) => v.name + (v.name === e.control ? ' (control)' : '')).join(', ')}</td>
                  <td>{e.goals.map((g) => g.name).join(', ')}</td>
                  <td>{formatDate(e.start)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function NewExperiment(props: { site: string; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState('event');
  const [key, setKey] = useState('');
  const [variants, setVariants] = useState('A, B');
  const [control, setControl] = useState('A');
  const [start, setStart] = useState(new Date(Date.now() - 30 * 86400e3).toISOString().slice(0, 10));
  const [goals, setGoals] = useState('');
  const [funnel, setFunnel] = useState('');
  const [breakdown, setBreakdown] = useState('');
  const funnels = useLoad(
    (signal) => get<{ insights: { id: string; name: string; kind: string }[] }>(sitePath(props.site, '/insights'), { signal }),
    [props.site],
  );
  const submit = useSubmit(async () => {
    const def: ExperimentDef = {
      name,
      source: kind === 'attribute' ? { kind, attribute: key } : { kind, experiment: key },
      variants: split(variants).map((v) => ({ name: v })),
      control,
      start: new Date(start + 'T00:00:00Z').toISOString(),
      goals: [...split(goals).map((g) => ({ kind: 'event', event: g })), ...(funnel ? [{ kind: 'funnel', funnel }] : [])],
      breakdown: breakdown.trim() ? [breakdown.trim()] : [],
    };
    const saved = await post<ExperimentDef>(sitePath(props.site, '/experiments'), def);
    navigate(base(props.site) + '/' + encodeURIComponent(saved.id || ''));
  });
  const err = (f: string) => fieldError(submit.error, f);
  return (
    <form class="card" onSubmit={submit.onSubmit}>
      <h2>New experiment</h2>
      <Field label="Name" error={err('name')}>
        {(p) => <input {...p} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <Field label="Variant comes from" error={err('source.kind')}>
        {(p) => (
          <select {...p} value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
            <option value="event">the $experiment_viewed event (the tracker's experiment call)</option>
            <option value="attribute">a user attribute</option>
          </select>
        )}
      </Field>
      <Field
        label={kind === 'attribute' ? 'Attribute' : 'Experiment key'}
        error={err(kind === 'attribute' ? 'source.attribute' : 'source.experiment')}
        hint={kind === 'attribute' ? 'The attribute holding the variant, such as ab_variant.' : "The key of sightline('experiment', KEY, variant)."}
      >
        {(p) => <input {...p} value={key} onInput={(e) => setKey(e.currentTarget.value)} />}
      </Field>
      <Field label="Variants" hint="Comma-separated, as the source names them." error={err('variants')}>
        {(p) => <input {...p} value={variants} onInput={(e) => setVariants(e.currentTarget.value)} />}
      </Field>
      <Field label="Control" error={err('control')}>
        {(p) => <input {...p} value={control} onInput={(e) => setControl(e.currentTarget.value)} />}
      </Field>
      <Field label="Start" error={err('start')}>
        {(p) => <input {...p} type="date" value={start} onInput={(e) => setStart(e.currentTarget.value)} />}
      </Field>
      <Field label="Goal events" hint="Comma-separated event names: conversion is doing one after the first exposure." error={err('goals')}>
        {(p) => <input {...p} value={goals} onInput={(e) => setGoals(e.currentTarget.value)} />}
      </Field>
      {(funnels.data?.insights || []).some((i) => i.kind === 'funnel') && (
        <Field label="Funnel goal" hint="Optional: a saved funnel, gone through after the first exposure." error={err('goals')}>
          {(p) => (
            <select {...p} value={funnel} onChange={(e) => setFunnel(e.currentTarget.value)}>
              <option value="">none</option>
              {(funnels.data?.insights || [])
                .filter((i) => i.kind === 'funnel')
                .map((i) => (
                  <option value={i.id}>{i.name}</option>
                ))}
            </select>
          )}
        </Field>
      )}
      <Field label="Break down by segment" hint='Optional, as segment text: plan = "trial".' error={err('breakdown[0]')}>
        {(p) => <input {...p} value={breakdown} onInput={(e) => setBreakdown(e.currentTarget.value)} />}
      </Field>
      <FormError error={submit.error} fields={['name', 'source.kind', 'source.attribute', 'source.experiment', 'variants', 'control', 'start', 'goals', 'breakdown[0]']} />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={submit.busy}>
          Create experiment
        </button>
        <button type="button" class="btn" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function ExperimentPage(props: PageProps) {
  const site = useSite();
  const { me } = useSession();
  const id = props.params.id;
  const canWrite = allows(siteAccess(site, me.account.role), 'write');
  const res = useLoad(
    (signal) =>
      get<{ experiment: ExperimentDef; results: ExperimentResults }>(
        sitePath(site.id, '/experiments/' + encodeURIComponent(id) + '/results'),
        { signal },
      ),
    [site.id, id],
  );
  useTitle((res.data?.experiment.name || 'Experiment') + ' — ' + site.name);
  const remove = useSubmit(async () => {
    await del(sitePath(site.id, '/experiments/' + encodeURIComponent(id)));
    navigate(base(site.id));
  });
  if (res.error) return <LoadError error={res.error} retry={res.reload} />;
  if (!res.data) return <Loading label="Reading the results…" />;
  const { experiment: e, results: r } = res.data;
  return (
    <section class="experiment">
      <div class="page-head">
        <h1>{e.name}</h1>
        <a class="btn" download href={sitePath(site.id, '/experiments/' + encodeURIComponent(id) + '/results?format=csv')}>
          Export CSV
        </a>
        {canWrite && (
          <button type="button" class="btn btn-danger" onClick={() => remove.run()} disabled={remove.busy}>
            Delete
          </button>
        )}
      </div>
      <p class="lead">
        {formatDate(r.start)} to {formatDate(r.end)}. Variant from{' '}
        {e.source.kind === 'attribute' ? (
          <>
            the attribute <code>{e.source.attribute}</code>
          </>
        ) : (
          <>
            <code>{e.source.event}</code> events of experiment <code>{e.source.experiment}</code>
          </>
        )}
        ; control <strong>{e.control}</strong>. Conversion counts a goal done at or after a user's first exposure.
      </p>
      <FormError error={remove.error} />
      <PartView part={r} site={site.id} />
      {(r.breakdown || []).map((p) => (
        <div class="card">
          <h2>
            Among <code>{p.segment}</code>
          </h2>
          <PartView part={p} site={site.id} />
        </div>
      ))}
      <p class="hint">
        Intervals are 95%: Wilson for a conversion rate, Newcombe for a difference of rates, Katz (log) for a lift. The p-value is a
        two-proportion z test against the control (Welch's t for numeric goals), adjusted for the number of variants and goals
        (Benjamini–Hochberg); a result is significant below 0.05 with at least 30 users in both arms. Computed in {formatCount(r.took_ms)}{' '}
        ms.
      </p>
    </section>
  );
}

function PartView(props: { part: Part; site: string }) {
  const p = props.part;
  return (
    <>
      {p.srm.mismatch && (
        <div class="alert alert-warn" role="alert" id="srm">
          Sample ratio mismatch: the variants' sizes do not match their planned shares (p {pval(p.srm.p)}). The assignment may be
          broken; read the results with care.
        </div>
      )}
      <div class="table-wrap">
        <table class="exposure">
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col" class="num">
                Users exposed
              </th>
              <th scope="col" class="num">
                Expected
              </th>
              <th scope="col">Behind it</th>
            </tr>
          </thead>
          <tbody>
            {p.variants.map((v) => (
              <tr data-variant={v.name}>
                <th scope="row">
                  {v.name}
                  {v.control && <span class="badge">control</span>}
                </th>
                <td class="num">{formatCount(v.users)}</td>
                <td class="num">{num(v.expected)}</td>
                <td class="variant-links">
                  <Link class="btn btn-small" href={recordingsHref(props.site, { text: v.segment })}>
                    Recordings
                  </Link>
                  <Link class="btn btn-small" href={heatmapsHref(props.site, { text: v.segment })} aria-label={'Heatmaps of variant ' + v.name}>
                    Heatmaps
                  </Link>
                  <Link
                    class="btn btn-small"
                    href={`/s/${encodeURIComponent(props.site)}/segments/new?` + new URLSearchParams({ text: v.segment, name: 'Variant ' + v.name }).toString()}
                    aria-label={'Users of variant ' + v.name}
                  >
                    Users
                  </Link>
                  <VariantSurveys site={props.site} segment={v.segment} variant={v.name} />
                  <code class="muted">{v.segment}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted" id="exposure-notes">
        Sample-ratio check p {pval(p.srm.p)}. {p.multiple > 0
          ? `${plural(p.multiple, 'user')} saw more than one variant and ${p.multiple === 1 ? 'counts' : 'count'} in none.`
          : 'No user saw two variants.'}
        {p.unexpected && ' Users with other variants: ' + Object.entries(p.unexpected).map(([k, n]) => `${k} (${n})`).join(', ') + '.'}
      </p>
      {p.goals.map((g) => (
        <div class="goal" data-goal={g.goal.name}>
          <h3>{g.goal.name}</h3>
          {g.goal.kind === 'funnel' && g.goal.steps && (
            <p class="muted">
              {g.goal.steps.join(' → ')}, within {g.goal.window || '7d'} of the first step, after the exposure.
            </p>
          )}
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Variant</th>
                  <th scope="col" class="num">
                    Users
                  </th>
                  <th scope="col" class="num">
                    {g.goal.kind === 'property' ? 'Mean per user' : 'Conversion'}
                  </th>
                  <th scope="col" class="num">
                    {g.goal.kind === 'property' ? 'Difference' : 'Lift'}
                  </th>
                  <th scope="col" class="num">
                    p (adjusted)
                  </th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {g.arms.map((a) => (
                  <ArmRow a={a} property={g.goal.kind === 'property'} />
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ))}
    </>
  );
}

function ArmRow(props: { a: Arm; property: boolean }) {
  const { a } = props;
  const iv = (x?: { Low: number; High: number }, f = pct) => (x ? `${f(x.Low)} to ${f(x.High)}` : '');
  return (
    <tr data-variant={a.variant} data-significant={String(a.significant)}>
      <th scope="row">
        {a.variant}
        {a.control && <span class="badge">control</span>}
      </th>
      <td class="num">{formatCount(a.users)}</td>
      <td class="num">
        {props.property ? (
          num(a.mean)
        ) : (
          <>
            {pct(a.rate)} <span class="interval">({formatCount(a.conversions)}; {iv(a.interval)})</span>
          </>
        )}
      </td>
      <td class="num">
        {a.control ? (
          ''
        ) : props.property ? (
          <>
            {num(a.diff)} <span class="interval">{iv(a.diff_interval, num)}</span>
          </>
        ) : a.lift_note === 'control_zero' ? (
          <span data-lift-note="control_zero" title="The control converted no one: a lift over 0% is undefined. The difference in points is shown, with its Newcombe interval.">
            no lift (control at 0%); difference {signedPct(a.diff)} <span class="interval">{iv(a.diff_interval, signedPct)}</span>
          </span>
        ) : (
          <span
            data-lift-note={a.lift_note || undefined}
            title={a.lift_note === 'corrected' ? 'At 0% or 100% the interval adds ½ to each count (Haldane–Anscombe), as the plain Katz interval has no width or no bound there.' : undefined}
          >
            {signedPct(a.lift)} <span class="interval">{iv(a.lift_interval, signedPct)}</span>
            {a.lift_note === 'corrected' && <span class="muted"> (corrected)</span>}
          </span>
        )}
      </td>
      <td class="num" title={a.test ? a.test + ', unadjusted p ' + pval(a.p) : ''}>
        {a.control ? '' : pval(a.q)}
      </td>
      <td>
        {a.control ? (
          ''
        ) : a.significant ? (
          <span class="badge badge-sig">significant</span>
        ) : (
          <span class="badge badge-null">no significant difference</span>
        )}
      </td>
    </tr>
  );
}

/** Links to each survey's answers from a variant's users. */
function VariantSurveys(props: { site: string; segment: string; variant: string }) {
  const list = useLoad((signal) => get<{ surveys: { id: string; definition: { name: string } }[] }>(sitePath(props.site, '/surveys'), { signal }), [props.site]);
  const surveys = list.data?.surveys || [];
  if (surveys.length === 0) return null;
  return (
    <span class="variant-surveys">
      {surveys.map((s) => (
        <Link
          key={s.id}
          class="btn btn-small"
          href={`/s/${encodeURIComponent(props.site)}/surveys/${encodeURIComponent(s.id)}/results?` + new URLSearchParams({ segment_text: props.segment }).toString()}
          aria-label={`Answers to ${s.definition.name || s.id} from variant ${props.variant}`}
        >
          Answers: {s.definition.name || s.id}
        </Link>
      ))}
    </span>
  );
}
