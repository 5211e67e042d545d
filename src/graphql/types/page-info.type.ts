import { Field, ObjectType } from 'type-graphql';

@ObjectType('PageInfo', { description: 'Relay pagination state of a connection.', simpleResolvers: true })
export class PageInfoObject {
  @Field(() => Boolean, { description: 'Whether more items follow the last one of this page.' })
  hasNextPage!: boolean;

  @Field(() => Boolean, { description: 'Whether items precede the first one of this page.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item; null on an empty page.' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item; null on an empty page.' })
  endCursor!: string | null;
}
