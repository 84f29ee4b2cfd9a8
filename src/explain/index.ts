/**
 * @module explain — runs the engine on a policy set and says what it did: the explanation of one
 * decision (`weir check`, the API's check operation) and the runner of a set's test cases
 * (`weir policy test`). It sits above both policy and engine, so neither has to import the other.
 */
export {
  describeTarget,
  explanationJson,
  formatExplanation,
  grantSentence,
  KEY_WIDTH,
  keyLine,
  reasonSentence,
  requestFor,
  verdictOf,
} from './explain.js';
export type { ExplainContext, RequestProblem } from './explain.js';
export { formatTestJson, formatTestText, runPolicyTests, testExitCode } from './test-runner.js';
export type {
  CaseResult,
  Explainer,
  RuleRef,
  TestReportOptions,
  TestRunOptions,
  TestRunReport,
} from './test-runner.js';
