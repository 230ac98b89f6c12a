// The site's attribute catalog, which several pages read (users, the
// segment builder, the catalog page).

import { get, sitePath } from './api';
import { useLoad } from './hooks';
import type { CatalogKey } from './types';

export function useCatalog(site: string) {
  return useLoad((signal) => get<{ attributes: CatalogKey[] }>(sitePath(site, '/attributes'), { signal }).then((r) => r.attributes), [site]);
}

/** The user attribute keys, the most common first. */
export function userKeys(cat: CatalogKey[] | undefined): CatalogKey[] {
  return (cat || []).filter((k) => k.entity === 'user').sort((a, b) => b.users - a.users || a.key.localeCompare(b.key));
}
