import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GLOBAL_SETTINGS, ISSUER_SETTINGS } from 'src/config/config.definition';

// Issue 12 §2: the README's configuration reference and bridgekeeper.properties.example are generated from
// the one configuration definition; like schema.gql, a change to one without the others fails here.
const ROOT = join(__dirname, '..', '..');

describe('configuration reference', () => {
  it('README.md and bridgekeeper.properties.example are what `npm run config:docs` generates', () => {
    // In its own process: prettier (which formats the README's tables) loads plugins by dynamic import.
    const check = spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', 'scripts/config-docs.ts', '--check'],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('lists every setting in both, each table row under a table header', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = readFileSync(join(ROOT, 'bridgekeeper.properties.example'), 'utf8');
    for (const s of GLOBAL_SETTINGS) {
      expect(readme).toMatch(
        new RegExp(`\\| \`bridgekeeper\\.${s.name.replace(/\./g, '\\.')}\` +\\|`),
      );
      expect(example).toContain(`#bridgekeeper.${s.name}=`);
    }
    for (const s of ISSUER_SETTINGS) {
      expect(readme).toMatch(new RegExp(`\\| \`${s.name.replace(/\./g, '\\.')}\` +\\|`));
      expect(example).toContain(`#bridgekeeper.auth.jwt.trusted.issuer.corp.${s.name}=`);
    }
    // A table row right after a blank line renders as text, not as a row (the old broken tables).
    expect(readme).not.toMatch(/\n\n\| `/);
  });
});
