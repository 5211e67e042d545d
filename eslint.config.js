// ESLint (flat config) with typescript-eslint's type-aware rules, run by `npm run lint` (part of
// `npm test`). Type-aware: floating promises and misused promises are the defects that matter in
// a server that does most of its work in callbacks.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.data/**',
      'test/gql/**',
      'packages/client/src/generated/**',
      'packages/client/dist/**',
      'test-artifacts/**',
      'web/**',
      'src/db/migrations/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['vitest.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `void promise` marks a deliberate fire-and-forget; everything else is awaited or handled.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // GraphQL results, JSON bodies and provider payloads are `unknown`/`any` at the edges by nature.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
      // Without noUncheckedIndexedAccess, `rows[0]!` is "unnecessary" to the compiler but says to
      // the reader that the index was checked: kept.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Provider payloads are typed `'connect' | 'terminate' | string`: the known values document the protocol.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      // Input validation rejects control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests and benches: ws message data is a Buffer there, and graphql-ws's dispose() may return void.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/await-thenable': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
