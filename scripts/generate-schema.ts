import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchemaSdl } from '../src/graphql/schema-sdl';

/** Writes schema.gql at the repository root. `npm run schema:generate`. */
async function main(): Promise<void> {
  const target = join(__dirname, '..', 'schema.gql');
  writeFileSync(target, await buildSchemaSdl());
  console.log(`wrote ${target}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
