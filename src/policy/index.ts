/** @module policy — policy files: types, parser, linter, test runner, plan/apply. */
export type * from './types.js';
