// The left navigation. A new page (recordings, heatmaps, surveys…) is one
// entry here and one route in routes.tsx.

import type { Access, Role } from './types';

export interface NavItem {
  label: string;
  /** The page's address; site is the current site's ID. */
  href: (site: string) => string;
  /** The first path segment after /s/:site/ (site pages) or the whole path prefix (others). */
  section: string;
  /** Site access needed to see the entry. */
  need?: Access;
  /** Shown only to these roles. */
  roles?: Role[];
}

export interface NavGroup {
  label: string;
  /** Entries about the current site need one. */
  perSite: boolean;
  items: NavItem[];
}

export const navigation: NavGroup[] = [
  {
    label: 'Analyse',
    perSite: true,
    items: [
      { label: 'Overview', href: (s) => `/s/${s}/overview`, section: 'overview' },
      { label: 'Users', href: (s) => `/s/${s}/users`, section: 'users' },
      { label: 'Segments', href: (s) => `/s/${s}/segments`, section: 'segments' },
      { label: 'Insights', href: (s) => `/s/${s}/insights`, section: 'insights' },
      { label: 'Recordings', href: (s) => `/s/${s}/recordings`, section: 'recordings' },
      { label: 'Heatmaps', href: (s) => `/s/${s}/heatmaps`, section: 'heatmaps' },
      { label: 'Attributes', href: (s) => `/s/${s}/attributes`, section: 'attributes' },
      { label: 'Events', href: (s) => `/s/${s}/events`, section: 'events' },
      { label: 'Compare', href: (s) => `/s/${s}/compare`, section: 'compare' },
      { label: 'Experiments', href: (s) => `/s/${s}/experiments`, section: 'experiments' },
    ],
  },
  {
    label: 'Ask',
    perSite: true,
    items: [
      { label: 'Surveys', href: (s) => `/s/${s}/surveys`, section: 'surveys' },
      { label: 'Feedback', href: (s) => `/s/${s}/feedback`, section: 'feedback' },
    ],
  },
  {
    label: 'Site',
    perSite: true,
    items: [
      { label: 'Install & settings', href: (s) => `/s/${s}/settings`, section: 'settings' },
      { label: 'API tokens', href: (s) => `/s/${s}/tokens`, section: 'tokens', need: 'admin' },
      { label: 'Integrations', href: (s) => `/s/${s}/integrations`, section: 'integrations' },
    ],
  },
  {
    label: 'Workspace',
    perSite: false,
    items: [
      { label: 'Sites', href: () => '/sites', section: '/sites' },
      { label: 'Team', href: () => '/settings/team', section: '/settings/team', roles: ['owner', 'admin'] },
      { label: 'Audit log', href: () => '/settings/audit', section: '/settings/audit', roles: ['owner'] },
      { label: 'My account', href: () => '/settings/account', section: '/settings/account' },
    ],
  },
];
