// npm run config:docs: regenerates the README's configuration reference (between its markers) and
// bridgekeeper.properties.example from src/config/config.definition.ts. `--check` only compares (the
// test suite does the same through `generatedConfigDocs`).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { renderPropertiesExample, replaceReadmeReference } from '../src/config/config.reference';

const ROOT = join(__dirname, '..');

/** Every generated file with the content it must have (the README as prettier formats it). */
export async function generatedConfigDocs(
  root = ROOT,
): Promise<{ path: string; content: string }[]> {
  const readmePath = join(root, 'README.md');
  const options = (await prettier.resolveConfig(readmePath)) ?? {};
  const readme = await prettier.format(replaceReadmeReference(readFileSync(readmePath, 'utf8')), {
    ...options,
    filepath: readmePath,
  });
  return [
    { path: readmePath, content: readme },
    { path: join(root, 'bridgekeeper.properties.example'), content: renderPropertiesExample() },
  ];
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { path, content } of await generatedConfigDocs()) {
    if (readFileSync(path, 'utf8') === content) continue;
    stale++;
    if (check) console.error(`${path} is out of date: run npm run config:docs`);
    else {
      writeFileSync(path, content);
      console.log(`wrote ${path}`);
    }
  }
  if (check && stale) process.exit(1);
}

if (require.main === module) void main();
