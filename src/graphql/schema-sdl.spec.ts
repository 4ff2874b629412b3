import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchemaSdl } from 'src/graphql/schema-sdl';

describe('schema.gql', () => {
  it('matches the code-first resolvers (run `npm run schema:generate` after changing the API)', async () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'schema.gql'), 'utf8');
    expect(await buildSchemaSdl()).toBe(committed);
  });
});
