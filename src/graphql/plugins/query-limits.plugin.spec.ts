import type { ApolloServerPlugin } from '@apollo/server';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  buildSchema,
  getIntrospectionQuery,
  getOperationAST,
  parse,
} from 'graphql';
import { operationDepth, queryLimitsPlugin } from 'src/graphql/plugins/query-limits.plugin';

const schema = buildSchema(`
  type T { a: T b: T x: Int }
  type Query { t: T n: Int }
`);

function depthOf(query: string, operationName?: string): number {
  const doc = parse(query);
  const op = getOperationAST(doc, operationName);
  if (!op) throw new Error('no operation');
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  return operationDepth(op, fragments);
}

/** `n` fragments, each spreading the next one twice: a tiny text with 2^n paths. */
function diamond(n: number): string {
  let q = 'query { t { ...F0 } }\n';
  for (let i = 0; i < n; i++)
    q += `fragment F${i} on T { a { ...F${i + 1} } b { ...F${i + 1} } }\n`;
  return `${q}fragment F${n} on T { x }\n`;
}

describe('operationDepth', () => {
  it.each([
    ['{ n }', 1],
    ['{ t { x } }', 2],
    ['{ t { a { b { x } } } }', 4],
    ['{ t { x a { x } b { a { x } } } }', 4],
    ['{ t { __typename } }', 1],
    ['{ t { ... on T { a { x } } } }', 3],
  ])('%s is %i deep', (query, depth) => {
    expect(depthOf(query)).toBe(depth);
  });

  it('follows fragment spreads, including fragments spreading fragments', () => {
    const query = `
      query { t { ...One } }
      fragment One on T { a { ...Two } }
      fragment Two on T { b { a { x } } }
    `;
    expect(depthOf(query)).toBe(5);
  });

  it('counts a fragment at the depth where it is spread, not where it was first seen', () => {
    const query = `
      query { t { ...Leaf a { b { ...Leaf } } } }
      fragment Leaf on T { a { x } }
    `;
    expect(depthOf(query)).toBe(5);
  });

  it('ignores spreads of unknown fragments', () => {
    expect(depthOf('{ t { x ...Missing } }')).toBe(2);
  });

  it('terminates on fragment cycles (self and mutual)', () => {
    expect(depthOf('query { t { ...A } } fragment A on T { a { ...A } }')).toBe(2);
    expect(
      depthOf('query { t { ...A } } fragment A on T { a { ...B } } fragment B on T { b { ...A } }'),
    ).toBe(3);
  });

  it('measures the depth of the named operation only', () => {
    const query = 'query Flat { n } query Deep { t { a { a { x } } } }';
    expect(depthOf(query, 'Flat')).toBe(1);
    expect(depthOf(query, 'Deep')).toBe(4);
  });

  it('stays linear on fragments that spread the same fragment many times (no 2^n walk)', () => {
    const started = Date.now();
    // Walking every path of this 24-fragment query takes minutes; each fragment once, milliseconds.
    expect(depthOf(diamond(24))).toBe(26);
    expect(depthOf(diamond(200))).toBe(202);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('queryLimitsPlugin', () => {
  async function check(
    plugin: ApolloServerPlugin,
    document: DocumentNode,
    operationName?: string,
    variables: Record<string, unknown> = {},
  ): Promise<void> {
    const operation = getOperationAST(document, operationName) as OperationDefinitionNode;
    const listener = await plugin.requestDidStart?.({} as never);
    await listener?.didResolveOperation?.({
      request: { operationName, variables },
      document,
      schema,
      operation,
    } as never);
  }

  async function refusal(promise: Promise<void>): Promise<GraphQLError> {
    try {
      await promise;
    } catch (err) {
      expect(err).toBeInstanceOf(GraphQLError);
      const e = err as GraphQLError;
      expect(e.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', http: { status: 400 } });
      return e;
    }
    throw new Error('expected the operation to be refused');
  }

  const limits = { maxDepth: 3, maxComplexity: 10 };

  it('lets an operation within both limits through', async () => {
    await expect(
      check(queryLimitsPlugin(limits), parse('{ t { a { x } } }')),
    ).resolves.toBeUndefined();
  });

  it('refuses an operation deeper than maxDepth, through fragments too', async () => {
    const plugin = queryLimitsPlugin(limits);
    expect((await refusal(check(plugin, parse('{ t { a { b { x } } } }')))).message).toBe(
      'Query depth 4 exceeds the limit of 3',
    );
    const viaFragment = parse('{ t { ...F } } fragment F on T { a { b { x } } }');
    expect((await refusal(check(plugin, viaFragment))).message).toMatch(/Query depth 4/);
  });

  it('refuses the exponential fragment query quickly, on depth', async () => {
    const started = Date.now();
    const e = await refusal(check(queryLimitsPlugin(limits), parse(diamond(40))));
    expect(e.message).toBe('Query depth 42 exceeds the limit of 3');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses an operation costlier than maxComplexity', async () => {
    const wide = parse('{ t { x a { x } b { x } } n t2: t { x a { x } b { x } } }');
    const e = await refusal(check(queryLimitsPlugin(limits), wide));
    expect(e.message).toMatch(/^Query complexity \d+ exceeds the limit of 10$/);
  });

  it('allows the standard introspection query, but not deeper introspection', async () => {
    const plugin = queryLimitsPlugin({ maxDepth: 5, maxComplexity: 100000 });
    await expect(check(plugin, parse(getIntrospectionQuery()))).resolves.toBeUndefined();
    let nested = '{ name }';
    for (let i = 0; i < 15; i++) nested = `{ ofType ${nested} }`;
    const deep = parse(`{ __schema { types { fields { type ${nested} } } } }`);
    expect((await refusal(check(plugin, deep))).message).toMatch(/exceeds the limit of 15$/);
  });

  it('does not let an operation that passed vouch for another operation of the same document', async () => {
    const plugin = queryLimitsPlugin(limits);
    const doc = parse('query Small { n } query Deep { t { a { b { x } } } }');
    await check(plugin, doc, 'Small');
    await check(plugin, doc, 'Small');
    await refusal(check(plugin, doc, 'Deep'));
  });

  it('checks an operation with variables every time (its cost depends on them)', async () => {
    const plugin = queryLimitsPlugin(limits);
    const doc = parse(`
      query Q($skip: Boolean!) {
        n
        t { x a { x } b { x } }
        t2: t @skip(if: $skip) { x a { x } b { x } }
      }
    `);
    await check(plugin, doc, 'Q', { skip: true });
    await refusal(check(plugin, doc, 'Q', { skip: false }));
  });
});
