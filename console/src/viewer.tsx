import { createContext, useContext } from 'react';
import type { ViewerQuery } from './api/generated';

export type ViewerInfo = ViewerQuery['viewer'];

/** Who is signed in: every page reads its role from here (loaded once by the shell). */
export const ViewerContext = createContext<ViewerInfo | undefined>(undefined);

export function useViewer(): ViewerInfo {
  const viewer = useContext(ViewerContext);
  if (!viewer) throw new Error('useViewer outside the shell');
  return viewer;
}

/** The name people recognise: the display name, then the username, the email, the subject. */
export function displayName(actor: {
  name?: string | null;
  preferredUsername?: string | null;
  email?: string | null;
  subject: string;
}): string {
  return actor.name || actor.preferredUsername || actor.email || actor.subject;
}
