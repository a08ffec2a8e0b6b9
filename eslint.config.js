// ESLint for the whole tree (`npm run lint`): typescript-eslint's recommended rules, type-aware for the
// TypeScript that tsconfig.json builds, plus the house rules. A rule turned off says why beside it.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'test-artifacts/',
      'bench/results/',
      'test/fixtures/vite-app/node_modules/',
      'test/fixtures/vite-app/dist/',
      'test/fixtures/react-app/node_modules/',
      'test/fixtures/react-app/dist/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // One program for all of it (the build's): type-aware linting of the tree takes ~30 s on 2 cores.
        project: ['./tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      eqeqeq: ['error', 'always'],
      '@typescript-eslint/no-floating-promises': 'error',
      // Values from the wire are JsonValue; String(v) on them is for error and log text, where
      // "[object Object]" is an acceptable rendering of a peer's odd value.
      '@typescript-eslint/no-base-to-string': 'off',
      // `_`-prefixed names are unused on purpose (a parameter kept for its position).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Files outside tsconfig.json's program: plain JavaScript, the type declarations in types/, and the
    // published-API test that compiles against dist/ (test/types/tsconfig.json).
    files: [
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
      'types/**',
      'test/types/**',
      'test/fixtures/vite-app/**',
      'test/fixtures/react-app/**',
    ],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['scripts/**', 'eslint.config.js', '.dependency-cruiser.cjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: {
      // CommonJS files are required by tools that load them with require() (mocha's reporter, depcruise).
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // chai's property assertions (`expect(x).to.be.true`) are expressions by design.
      '@typescript-eslint/no-unused-expressions': 'off',
      // Hostile-client and HTTP tests read untyped replies (JSON bodies, raw socket.io acks) and send
      // deliberately ill-typed payloads; typing each probe would only restate the test.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['demo/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    // The library logs through its Logger (lib/logger.ts), which an app replaces; only the default one
    // writes to the console.
    files: ['lib/**/*.ts'],
    ignores: ['lib/logger.ts'],
    rules: { 'no-console': 'error' },
  },
);
