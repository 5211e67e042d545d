import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261123000000Initial } from './Migration20261123000000Initial.js';
import { Migration20261123010000EventSequencing } from './Migration20261123010000EventSequencing.js';

/** Every migration, in order. Listed, not globbed: the same list works compiled and under tsx. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261123000000Initial', class: Migration20261123000000Initial },
  { name: 'Migration20261123010000EventSequencing', class: Migration20261123010000EventSequencing },
];
