import { Field, ObjectType, type ClassType } from 'type-graphql';
import { PageInfoType } from './page-info.type.js';

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface ConnectionShape<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: PageInfoType;
}

/** Relay connection types for any node type: `<Name>Connection` with `<Name>Edge`. */
export function Connection<T extends object>(name: string, nodeType: ClassType<T>, description: string) {
  @ObjectType(`${name}Edge`, { description: `An edge in a ${name}Connection.` })
  class EdgeType {
    @Field(() => String, { description: 'Opaque cursor of this node; pass to `after` or `before`.' })
    cursor!: string;

    @Field(() => nodeType, { description: 'The item.' })
    node!: T;
  }

  // Never named in the schema itself: only its subclasses (e.g. CallConnection) are.
  @ObjectType({ description })
  abstract class ConnectionType {
    @Field(() => [EdgeType], { description: 'The page, with a cursor per item.' })
    edges!: EdgeType[];

    @Field(() => [nodeType], { description: 'The page, without cursors.' })
    nodes!: T[];

    @Field(() => PageInfoType, { description: 'Where this page is in the whole list.' })
    pageInfo!: PageInfoType;
  }
  return ConnectionType;
}

/** Builds a connection from one page of items. */
export function toConnection<T>(items: T[], cursorOf: (item: T) => string, page: { hasNextPage: boolean; hasPreviousPage: boolean }): ConnectionShape<T> {
  const edges = items.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    nodes: items,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
