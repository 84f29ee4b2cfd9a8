// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import weir from './eslint/boundaries.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'weir-data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Which component may import which, each through its index.ts (eslint/boundaries.js holds
    // the layer table; docs/architecture.md explains it). Tests under src/ obey it too: they
    // test their own component.
    files: ['src/**/*.ts'],
    plugins: { weir },
    rules: { 'weir/boundaries': 'error' },
  },
  {
    // Sizes a reader can hold: raw lines, as `wc -l` counts them. Tests and shared suites aside.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts', 'src/**/*.suite.ts'],
    rules: {
      'max-lines': ['error', { max: 600, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': [
        'error',
        { max: 120, skipBlankLines: false, skipComments: false, IIFEs: true },
      ],
    },
  },
);
