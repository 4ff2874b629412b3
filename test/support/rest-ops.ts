import type { RunningBridgekeeper } from './bridgekeeper';

export interface JsonAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

async function json<T>(res: Response): Promise<JsonAnswer<T>> {
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

export interface UserinfoOptions {
  method?: 'GET' | 'POST';
  /** Sent as `X-Bridgekeeper-Project`. */
  project?: string;
  headers?: Record<string, string>;
}

/** `/oauth2/userinfo` with a bearer token: the answer, whatever its status. */
export async function userinfo<T = Record<string, unknown>>(
  node: RunningBridgekeeper,
  token: string,
  { method = 'GET', project, headers = {} }: UserinfoOptions = {},
): Promise<JsonAnswer<T>> {
  const all = { ...headers, ...(project ? { 'x-bridgekeeper-project': project } : {}) };
  const res =
    method === 'GET'
      ? await node.get('/oauth2/userinfo', token, all)
      : await fetch(`${node.url}/oauth2/userinfo`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, ...all },
        });
  return json<T>(res);
}

/** The REST invite (`POST /admin/projects/:id/invite`): the answer, whatever its status. */
export async function inviteOverRest<T = Record<string, unknown>>(
  node: RunningBridgekeeper,
  token: string,
  projectId: string,
  body: Record<string, unknown>,
): Promise<JsonAnswer<T>> {
  return json<T>(await node.post(`/admin/projects/${projectId}/invite`, body, token));
}
