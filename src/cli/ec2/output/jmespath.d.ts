/**
 * @module cli/ec2/output/jmespath.d — the part of the `jmespath` package (jmespath.js 0.16, untyped) that
 * `--query` uses.
 */
declare module 'jmespath' {
  /** The jmespath.js module object. */
  const jmespath: {
    /** Evaluates `expression` against `data`; throws on a syntax error. */
    search(data: unknown, expression: string): unknown;
    /** Parses `expression`; throws on a syntax error. */
    compile(expression: string): unknown;
  };
  export default jmespath;
}
