/**
 * @module engine/naive.test — the naive evaluator against the shared semantic suite.
 */
import { runMatcherTests } from './matcher.suite.js';
import { NaiveEvaluator } from './naive.js';

runMatcherTests('naive', (set, opts) => new NaiveEvaluator(set, opts));
