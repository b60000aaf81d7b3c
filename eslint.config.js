// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'coverage/', 'node_modules/', 'idsync-demo/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // One program for the product and the tests (tsconfig.test.json covers both).
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Unused names are already compile errors (noUnusedLocals/Parameters); `_`-prefixed
      // parameters are the way to keep a position in a callback signature.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Template literals print numbers and booleans in messages all the time; only objects
      // (which would print "[object Object]") are worth flagging.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // Async functions that do not await still turn a throw into a rejection, which the
      // callers (interfaces returning a Promise) rely on: the rule only asks to undo that.
      '@typescript-eslint/require-await': 'off',
      // String(unknown) is how upstream values of no known type are printed, on purpose;
      // objects inside template literals are still caught by restrict-template-expressions.
      '@typescript-eslint/no-base-to-string': 'off',
      // The provider and sink contracts declare plain functions in method syntax; none uses
      // `this`, so passing them around (isDeleted, keyOf) is safe.
      '@typescript-eslint/unbound-method': 'off',
      // Terminal and input hygiene matches control characters on purpose (to escape them).
      'no-control-regex': 'off',
      // Prettier owns the layout and breaks long chains before `[` (as eslint-config-prettier
      // notes, this rule then flags code that is fine); TypeScript catches the real cases.
      'no-unexpected-multiline': 'off',
      // stdout carries data, stderr messages, both through core/console.ts: no stray console.*.
      'no-console': 'error',
    },
  },
  {
    // The layers that talk to a person: the bench's and demo's own reports go to the console.
    files: ['src/bench/**', 'src/demo.ts', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Tests parse untyped JSON answers and poke at records on purpose: the any-safety rules
    // only produce noise there; the promise rules stay on.
    files: ['test/**', 'vitest.config.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly', console: 'readonly', require: 'readonly', module: 'writable' } },
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // CommonJS on purpose (the undici shim is bundled in place of a CommonJS package).
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
