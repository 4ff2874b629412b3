import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ALLOWED } from '../../module-boundaries.mjs';

const root = join(__dirname, '../..');
const allowed = ALLOWED as Record<string, string[]>;

/** Lints one made-up file through the project's ESLint config; returns the messages. */
function lint(filePath: string, code: string): string {
  try {
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/eslint/bin/eslint.js'), '--stdin', '--stdin-filename', filePath],
      { cwd: root, input: code, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] },
    );
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

describe('module boundaries (module-boundaries.mjs, enforced by the lint step of npm test)', () => {
  it('covers every folder of src/, so a new module cannot escape the rules', () => {
    const folders = readdirSync(join(root, 'src'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'types')
      .map((d) => d.name)
      .sort();
    expect(folders).toEqual(Object.keys(allowed).sort());
  });

  it('names only known modules and has no cycle', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (m: string, path: string[]): void => {
      expect(Object.keys(allowed)).toContain(m);
      if (done.has(m)) return;
      if (visiting.has(m)) throw new Error(`cycle: ${[...path, m].join(' -> ')}`);
      visiting.add(m);
      for (const dep of allowed[m]) visit(dep, [...path, m]);
      visiting.delete(m);
      done.add(m);
    };
    for (const m of Object.keys(allowed)) visit(m, []);
  });

  it('fails lint on an import against the arrows, and passes one along them', () => {
    const up = lint(
      'src/actors/boundary-probe.ts',
      "import { TokenService } from 'src/oauth/token.service';\nexport const x = TokenService;\n",
    );
    expect(up).toContain('module boundary: src/actors may import only');
    const down = lint(
      'src/oauth/boundary-probe.ts',
      "import { ActorsService } from 'src/actors/actors.service';\nexport const x = ActorsService;\n",
    );
    expect(down).toBe('');
  });

  it('lets only the data source import another module’s entities', () => {
    expect(
      lint(
        'src/database/boundary-probe.ts',
        "import { GrantEntity } from 'src/oauth/grants/grant.entity';\nexport const x = GrantEntity;\n",
      ),
    ).toBe('');
    expect(
      lint(
        'src/database/boundary-probe.ts',
        "import { GrantsService } from 'src/oauth/grants/grants.service';\nexport const x = GrantsService;\n",
      ),
    ).toContain('module boundary: src/database');
  });

  it('refuses parent-relative imports', () => {
    expect(
      lint(
        'src/actors/boundary-probe.ts',
        "import { AppError } from '../common/errors/app-error';\nexport const x = AppError;\n",
      ),
    ).toContain('Import through the src/ alias');
  });
});
