import { GraphQLSchemaHost } from '@nestjs/graphql';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { printSdl } from 'src/graphql/schema-sdl';
import { startBridgekeeper, type RunningBridgekeeper } from '../support/bridgekeeper';
import { JwksStub } from '../support/jwks-stub';

describe('served GraphQL schema', () => {
  let stub: JwksStub;
  let bk: RunningBridgekeeper;

  beforeAll(async () => {
    stub = await JwksStub.start();
    bk = await startBridgekeeper({
      issuers: [stub.trustedIssuer('stub', 'schema')],
    });
  });

  afterAll(async () => {
    await bk?.close();
    await stub?.stop();
  });

  it('is exactly the committed schema.gql (every resolver module is listed in RESOLVERS)', () => {
    const served = printSdl(bk.app.get(GraphQLSchemaHost).schema);
    expect(served).toBe(readFileSync(join(__dirname, '..', '..', 'schema.gql'), 'utf8'));
  });

  it('refuses introspection to anonymous callers', async () => {
    const res = await bk.graphql('{ __schema { types { name } } }');
    expect(res.status).toBe(401);
    expect(res.body.data ?? null).toBeNull();
  });

  it('answers introspection to an authenticated caller', async () => {
    const res = await bk.graphql('{ __type(name: "Actor") { name } }', await stub.token('schema'));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ __type: { name: 'Actor' } });
  });
});
