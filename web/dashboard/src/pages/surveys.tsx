// Surveys: each with its status, responses and NPS.

import { get, sitePath } from '../api';
import { Empty, LoadError, Loading } from '../components/feedback';
import { Ago } from '../components/values';
import { formatCount } from '../format';
import { useLoad, useTitle } from '../hooks';
import { Link } from '../router';
import { allows, siteAccess, useSession, useSite } from '../session';
import type { Results, Survey } from '../surveys/types';
import { statusLabel } from '../surveys/types';

interface Row {
  survey: Survey;
  results?: Results;
}

export function SurveysPage() {
  const site = useSite();
  const { me } = useSession();
  useTitle('Surveys — ' + site.name);
  const canWrite = allows(siteAccess(site, me.account.role), 'write');
  const base = `/s/${encodeURIComponent(site.id)}/surveys`;
  const list = useLoad(async (signal): Promise<Row[]> => {
    const { surveys } = await get<{ surveys: Survey[] }>(sitePath(site.id, '/surveys'), { signal });
    return Promise.all(
      surveys.map(async (s) => {
        if (s.status === 'draft') return { survey: s };
        const r = await get<{ results: Results }>(sitePath(site.id, `/surveys/${encodeURIComponent(s.id)}/results`), { signal });
        return { survey: s, results: r.results };
      }),
    );
  }, [site.id]);
  return (
    <section>
      <div class="page-head">
        <h1>Surveys</h1>
        {canWrite && (
          <Link href={base + '/new'} class="btn btn-primary">
            New survey
          </Link>
        )}
      </div>
      <p class="lead">Ask the users of any segment — behavioural ones too — a few questions, on the pages you choose.</p>
      {list.error ? (
        <LoadError error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : list.data.length === 0 ? (
        <Empty title="No surveys yet">
          <p>
            Ask detractors why, or free users what stops them upgrading.
            {canWrite ? (
              <>
                {' '}
                <Link href={base + '/new'}>Create the first survey</Link>.
              </>
            ) : null}
          </p>
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="survey-list">
            <thead>
              <tr>
                <th scope="col">Survey</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Responses
                </th>
                <th scope="col" class="num">
                  Completed
                </th>
                <th scope="col" class="num">
                  NPS
                </th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map(({ survey: s, results: r }) => (
                <tr key={s.id} data-survey={s.id}>
                  <td>
                    <Link href={`${base}/${encodeURIComponent(s.id)}/results`}>{s.definition.name || s.id}</Link>
                    <div class="sub">
                      {s.definition.questions.length} {s.definition.questions.length === 1 ? 'question' : 'questions'} ·{' '}
                      <Link href={`${base}/${encodeURIComponent(s.id)}`}>{canWrite && s.status !== 'ended' ? 'edit' : 'definition'}</Link>
                    </div>
                  </td>
                  <td>
                    <span class={'badge survey-' + s.status}>{statusLabel[s.status]}</span>
                  </td>
                  <td class="num">{r ? formatCount(r.responses) : '—'}</td>
                  <td class="num">{r ? formatCount(r.completed) : '—'}</td>
                  <td class="num" data-nps>
                    {r && r.nps && r.nps.score !== null ? r.nps.score : '—'}
                  </td>
                  <td>
                    <Ago at={s.updated_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
