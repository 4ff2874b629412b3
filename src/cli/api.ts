import { accessToken, type CliContext } from './credentials';
import { CliError, notAuthenticated, scrub } from './errors';
import { call } from './oauth';

interface GqlAnswer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** One GraphQL operation over HTTP with the caller's API token; refusals become CLI errors. */
export async function gql<T>(
  ctx: CliContext,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const { token, server } = await accessToken(ctx, 'api');
  const res = await call(server, '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  if (res.status === 401) throw notAuthenticated('the server refused the credentials (401)');
  let answer: GqlAnswer<T>;
  try {
    answer = (await res.json()) as GqlAnswer<T>;
  } catch {
    throw new CliError(`unexpected answer from ${server}/graphql (HTTP ${res.status})`);
  }
  const errors = answer.errors ?? [];
  if (errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
    throw notAuthenticated('the server refused the credentials');
  }
  if (errors.length > 0 || !answer.data) {
    const text = errors.map((e) => scrub(e.message)).join('; ') || `HTTP ${res.status}`;
    throw new CliError(text);
  }
  return answer.data;
}
