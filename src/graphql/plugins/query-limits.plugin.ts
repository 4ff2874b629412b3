import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

/**
 * Selection depth of an operation, following fragment spreads. Each fragment's depth is computed once:
 * re-walking a fragment at every spread makes a few hundred bytes of fragments that each spread the
 * next one twice cost 2^n steps (an event-loop DoS). A spread of a fragment already on the current path
 * (a cycle, which validation refuses anyway) adds nothing.
 */
export function operationDepth(
  op: OperationDefinitionNode,
  fragments: Map<string, FragmentDefinitionNode>,
): number {
  const depthOf = new Map<string, number>();
  const onPath = new Set<string>();
  const walk = (set: SelectionSetNode | undefined): number => {
    if (!set) return 0;
    let max = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (s.name.value === '__typename') continue;
        max = Math.max(max, s.selectionSet ? 1 + walk(s.selectionSet) : 1);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        max = Math.max(max, walk(s.selectionSet));
      } else if (s.kind === Kind.FRAGMENT_SPREAD) {
        const name = s.name.value;
        const frag = fragments.get(name);
        if (!frag || onPath.has(name)) continue;
        let depth = depthOf.get(name);
        if (depth === undefined) {
          onPath.add(name);
          depth = walk(frag.selectionSet);
          onPath.delete(name);
          depthOf.set(name, depth);
        }
        max = Math.max(max, depth);
      }
    }
    return max;
  };
  return walk(op.selectionSet);
}

function fragmentsOf(doc: DocumentNode): Map<string, FragmentDefinitionNode> {
  const map = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) map.set(d.name.value, d);
  return map;
}

/**
 * graphql-js's standard introspection query (what GraphiQL, Apollo Sandbox and codegen send) is 15 deep
 * because of nested `ofType`; deeper introspection is the classic DoS shape and is refused.
 */
const INTROSPECTION_MAX_DEPTH = 15;

function isIntrospectionOnly(op: OperationDefinitionNode): boolean {
  return op.selectionSet.selections.every(
    (s) => s.kind === Kind.FIELD && s.name.value.startsWith('__'),
  );
}

function limitError(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } },
  });
}

/**
 * Refuses operations deeper than `maxDepth` or costlier than `maxComplexity` before execution
 * (SECURITY.md rule 16). Costs come from each field's `complexity` (list fields multiply by page size).
 */
export function queryLimitsPlugin(limits: {
  maxDepth: number;
  maxComplexity: number;
}): ApolloServerPlugin {
  // Apollo hands out the same DocumentNode for the same query text (its parsed-document cache), so the
  // verdict for an operation without variables is computed once per document.
  const checked = new WeakMap<DocumentNode, Set<string>>();
  // One listener object for every request (requestDidStart allocates nothing).
  const listener: GraphQLRequestListener<BaseContext> = {
    async didResolveOperation({ request, document, schema, operation }) {
      if (!operation) return;
      const cacheable = !operation.variableDefinitions?.length;
      const opKey = request.operationName ?? '';
      if (cacheable && checked.get(document)?.has(opKey)) return;
      const depth = operationDepth(operation, fragmentsOf(document));
      const maxDepth = isIntrospectionOnly(operation)
        ? Math.max(limits.maxDepth, INTROSPECTION_MAX_DEPTH)
        : limits.maxDepth;
      if (depth > maxDepth) {
        throw limitError(`Query depth ${depth} exceeds the limit of ${maxDepth}`);
      }
      const complexity = getComplexity({
        schema,
        query: document,
        operationName: request.operationName ?? undefined,
        variables: request.variables ?? {},
        estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
      });
      if (complexity > limits.maxComplexity) {
        throw limitError(
          `Query complexity ${complexity} exceeds the limit of ${limits.maxComplexity}`,
        );
      }
      if (cacheable) {
        const ops = checked.get(document) ?? new Set<string>();
        ops.add(opKey);
        checked.set(document, ops);
      }
    },
  };
  return { requestDidStart: () => Promise.resolve(listener) };
}
