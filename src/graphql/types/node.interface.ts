import { Field, ID, InterfaceType } from 'type-graphql';

@InterfaceType('Node', {
  description: 'An object with a globally unique id, fetchable with `node(id:)`.',
  // Calls are the only nodes so far; their ids start with `call_`.
  resolveType: () => 'Call',
})
export abstract class NodeInterface {
  @Field(() => ID, { description: 'Globally unique id.' })
  id!: string;
}
