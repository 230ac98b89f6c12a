// Every signed-in page and its address. Pages under /s/:site/ get the site
// through SiteContext.

import type { FunctionComponent } from 'preact';
import { useEffect } from 'preact/hooks';
import { AccountPage } from './pages/account';
import { CatalogPage } from './pages/catalog';
import { EventsPage } from './pages/events';
import { OverviewPage, overviewHref } from './pages/overview';
import { PlayerPage } from './pages/player';
import { ProfilePage } from './pages/profile';
import { RecordingsPage } from './pages/recordings';
import { SegmentEditorPage } from './pages/segment';
import { SegmentsPage } from './pages/segments';
import { SiteSettingsPage } from './pages/site';
import { SitesPage } from './pages/sites';
import { TeamPage } from './pages/team';
import { AuditPage } from './pages/audit';
import { TokensPage } from './pages/tokens';
import { IntegrationsPage } from './pages/integrations';
import { UsersPage } from './pages/users';
import { FeedbackPage } from './pages/feedback';
import { HeatmapsPage } from './pages/heatmaps';
import { InsightsPage } from './pages/insights';
import { SurveyBuilderPage } from './pages/survey-builder';
import { SurveyResultsPage } from './pages/survey-results';
import { SurveysPage } from './pages/surveys';
import { ComparePage } from './compare/compare';
import { ExperimentPage, ExperimentsPage } from './compare/experiments';
import { navigate, type PageProps } from './router';
import { useSession } from './session';
import { currentSiteID } from './shell';


export interface Route {
  path: string;
  page: FunctionComponent<PageProps>;
}

function Home() {
  const { me } = useSession();
  useEffect(() => {
    const id = currentSiteID('/', me.sites);
    navigate(id ? overviewHref(id) : '/sites', true);
  }, [me]);
  return null;
}

function SiteHome(props: PageProps) {
  useEffect(() => navigate(overviewHref(props.params.site), true), [props.params.site]);
  return null;
}

export const routes: Route[] = [
  { path: '/', page: Home },
  { path: '/sites', page: SitesPage },
  { path: '/settings/team', page: TeamPage },
  { path: '/settings/audit', page: AuditPage },
  { path: '/settings/account', page: AccountPage },
  { path: '/s/:site', page: SiteHome },
  { path: '/s/:site/overview', page: OverviewPage },
  { path: '/s/:site/users', page: UsersPage },
  { path: '/s/:site/users/:id', page: ProfilePage },
  { path: '/s/:site/attributes', page: CatalogPage },
  { path: '/s/:site/events', page: EventsPage },
  { path: '/s/:site/recordings', page: RecordingsPage },
  { path: '/s/:site/recordings/:rec', page: PlayerPage },
  { path: '/s/:site/heatmaps', page: HeatmapsPage },
  { path: '/s/:site/segments', page: SegmentsPage },
  { path: '/s/:site/segments/new', page: SegmentEditorPage },
  { path: '/s/:site/segments/:seg', page: SegmentEditorPage },
  { path: '/s/:site/insights', page: InsightsPage },
  { path: '/s/:site/surveys', page: SurveysPage },
  { path: '/s/:site/surveys/new', page: SurveyBuilderPage },
  { path: '/s/:site/surveys/:id', page: SurveyBuilderPage },
  { path: '/s/:site/surveys/:id/results', page: SurveyResultsPage },
  { path: '/s/:site/feedback', page: FeedbackPage },
  { path: '/s/:site/compare', page: ComparePage },
  { path: '/s/:site/experiments', page: ExperimentsPage },
  { path: '/s/:site/experiments/:id', page: ExperimentPage },
  { path: '/s/:site/settings', page: SiteSettingsPage },
  { path: '/s/:site/tokens', page: TokensPage },
  { path: '/s/:site/integrations', page: IntegrationsPage },
];
