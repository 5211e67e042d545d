import { Kind, parse, validate, type GraphQLError, type GraphQLSchema } from 'graphql';
import type { TrustedDocument } from '../domain/trusted-documents.js';
import { PARSE_OPTIONS, allValidationRules, withoutSuggestions } from './limits.js';

/**
 * What is wrong with documents about to be registered, checked as the gateway checks a document it
 * is sent (graphql-js's rules and the limits of limits.ts, production's when `production`): a
 * registered document is known to run, so the refusal comes when it is pushed, not when a user
 * first opens the page that sends it. Empty: all of them may be registered.
 */
export function documentRefusals(schema: GraphQLSchema, production: boolean, documents: readonly TrustedDocument[]): string[] {
  const rules = allValidationRules(production);
  const refusals: string[] = [];
  for (const { id, text } of documents) {
    let errors: readonly GraphQLError[];
    try {
      const document = parse(text, PARSE_OPTIONS);
      errors = validate(schema, document, rules);
      if (errors.length === 0 && !document.definitions.some((definition) => definition.kind === Kind.OPERATION_DEFINITION)) {
        refusals.push(`${id}: the document has no operation`);
        continue;
      }
    } catch (error) {
      errors = [error as GraphQLError];
    }
    for (const error of errors) refusals.push(`${id}: ${withoutSuggestions(error.message)}`);
  }
  return refusals;
}
