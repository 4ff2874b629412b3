import { readFileSync } from 'node:fs';
import { currentConsoleTypes, GENERATED, generateConsoleTypes } from '../../scripts/console-gql';

// Issue 10: the console's GraphQL is typed from schema.gql. The committed generated file must be what
// the generator writes today from schema.gql and console/src/api/*.graphql (`npm run console:gql`).
describe('the console’s typed GraphQL (console/src/api/generated.ts)', () => {
  it('is exactly what `npm run console:gql` writes from schema.gql and the operations', () => {
    expect(readFileSync(GENERATED, 'utf8')).toBe(currentConsoleTypes());
  });

  const SCHEMA = `
    scalar DateTime
    enum Color { RED GREEN }
    input Paint { color: Color! note: String }
    type Thing { id: ID! at: DateTime color: Color tags: [String!]! next: Thing }
    type Query { thing(id: ID!): Thing things(paint: Paint, first: Int = 5): [Thing!]! }
    type Mutation { paint(id: ID!, paint: Paint!): Thing! }
  `;

  it('types results, nullability, lists, enums, inputs, defaults and fragments from the schema', () => {
    const out = generateConsoleTypes(
      SCHEMA,
      `fragment Bits on Thing { color tags }
       query One($id: ID!) { thing(id: $id) { id at ...Bits next { id } } }
       query Many($paint: Paint, $first: Int = 5) { things(paint: $paint, first: $first) { id } }
       mutation Paint($id: ID!, $paint: Paint!) { paint(id: $id, paint: $paint) { id } }`,
    );
    expect(out).toContain("export type Color = 'RED' | 'GREEN';");
    expect(out).toContain(
      'export type BitsFragment = {\n  color: Color | null;\n  tags: Array<string>;\n};',
    );
    expect(out).toContain('export interface Paint {\n  color: Color;\n  note?: string | null;\n}');
    expect(out).toContain(
      'export type OneQuery = {\n  thing: {\n    id: string;\n    at: string | null;',
    );
    expect(out).toContain('    color: Color | null;\n    tags: Array<string>;');
    expect(out).toContain('    next: {\n      id: string;\n    } | null;');
    expect(out).toContain(
      'export type ManyQueryVariables = {\n  paint?: Paint | null;\n  first?: number | null;\n};',
    );
    expect(out).toContain(
      'export type PaintMutationVariables = {\n  id: string;\n  paint: Paint;\n};',
    );
    // The fragment travels with the operation that uses it, and only with it.
    expect(out).toMatch(
      /query: "query One\(\$id:ID!\)\{thing\(id:\$id\)\{id at \.\.\.Bits next\{id\}\}\} fragment Bits on Thing\{color tags\}"/,
    );
    expect(out).toMatch(/query: "query Many\([^"]*\}"/);
    expect(out).not.toMatch(/query: "query Many[^"]*fragment/);
  });

  it('refuses an operation the schema does not allow (so a renamed field fails the build)', () => {
    expect(() => generateConsoleTypes(SCHEMA, 'query Bad { thing(id: "1") { missing } }')).toThrow(
      /Cannot query field "missing"/,
    );
    expect(() => generateConsoleTypes(SCHEMA, '{ things { id } }')).toThrow(/must be named/);
  });
});
