import type { ComponentType } from 'react';
import type { ViewerInfo } from './viewer';
import { OverviewPage } from './pages/overview';
import { ActorsPage } from './pages/actors';
import { TrustedIssuersPage } from './pages/trusted-issuers';
import { ProjectsPage } from './pages/projects';
import { ClientsPage } from './pages/clients';
import { SigningKeysPage } from './pages/signing-keys';
import { SsoPage } from './pages/sso';
import { MyAccountPage } from './pages/my-account';

/**
 * Who may open a page: `admin` a server ADMIN; `projects` a server ADMIN or the admin of a project
 * (the page shows only their projects); `anyone` every signed-in person.
 */
export type Audience = 'admin' | 'projects' | 'anyone';

export interface PageDef {
  /** Under /console; a page also answers its sub-paths (`/actors/123`). */
  path: string;
  /** The navigation label and the document title. */
  label: string;
  audience: Audience;
  component: ComponentType<{ subPath: string }>;
}

/** Every page, in navigation order. Add a page here and it is routed and in the navigation. */
export const PAGES: PageDef[] = [
  { path: '/overview', label: 'Overview', audience: 'admin', component: OverviewPage },
  { path: '/actors', label: 'Actors', audience: 'admin', component: ActorsPage },
  { path: '/issuers', label: 'Trusted issuers', audience: 'admin', component: TrustedIssuersPage },
  { path: '/projects', label: 'Projects', audience: 'projects', component: ProjectsPage },
  { path: '/clients', label: 'Clients', audience: 'admin', component: ClientsPage },
  { path: '/signing-keys', label: 'Signing keys', audience: 'admin', component: SigningKeysPage },
  { path: '/sso', label: 'Single sign-on', audience: 'admin', component: SsoPage },
  { path: '/account', label: 'My account', audience: 'anyone', component: MyAccountPage },
];

export function mayOpen(viewer: ViewerInfo, page: PageDef): boolean {
  switch (page.audience) {
    case 'admin':
      return viewer.isServerAdmin;
    case 'projects':
      return viewer.isServerAdmin || viewer.adminProjects.length > 0;
    case 'anyone':
      return true;
  }
}

/** Where `/console/` leads: the first page this person may open (ADMIN: Overview). */
export function homeOf(viewer: ViewerInfo): PageDef {
  return PAGES.find((p) => mayOpen(viewer, p))!;
}

/** The page for a path, and the rest of the path after it. */
export function pageFor(path: string): { page: PageDef; subPath: string } | undefined {
  for (const page of PAGES) {
    if (path === page.path || path.startsWith(`${page.path}/`)) {
      return { page, subPath: path.slice(page.path.length) };
    }
  }
  return undefined;
}
