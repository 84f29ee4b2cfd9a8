/**
 * @module test/helpers/tools — whether an outside tool that a comparison test holds Weir against is
 * here: the real `aws` CLI (v1), Python's awscli, botocore, boto3 and ruamel.yaml, openssl. On a
 * developer's machine a missing tool skips the tests that need it, with a message. With `CI=true`
 * (.ci/run sets it, and installs the tools first) a missing tool fails the run instead: a comparison
 * skipped in CI would let a difference from the real tool through unnoticed.
 */
import { spawnSync } from 'node:child_process';

/** Whether this run is CI, where a missing tool is an error rather than a skip. */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** Whether `cmd args` runs and exits 0 (a tool that is missing or broken answers false). */
export function probe(cmd: string, args: readonly string[]): boolean {
  const run = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
  return run.error === undefined && run.status === 0;
}

/** Whether python3 can import `module`. */
export function pythonImports(module: string): boolean {
  return probe('python3', ['-c', `import ${module}`]);
}

/**
 * Whether the tests that need `tool` run: true when `available`; when not, false with a warning
 * (they skip), or under CI an error thrown at once, which fails the test file.
 * @param detail what is missing, for the message (e.g. the probe's error).
 */
export function requireTool(tool: string, available: boolean, detail = `${tool} not found`): boolean {
  if (available) return true;
  if (IN_CI) {
    throw new Error(
      `${tool} is needed by a comparison test and is missing (${detail}); with CI=true this fails ` +
        'instead of skipping: .ci/run installs it',
    );
  }
  console.warn(`${tool} not available (${detail}): skipping the tests that compare Weir with it`);
  return false;
}

let awsCli: boolean | undefined;
let boto3: boolean | undefined;
let openssl: boolean | undefined;

/** Whether the real AWS CLI runs (`aws --version`); probed once per test file. */
export function hasAwsCli(): boolean {
  return (awsCli ??= probe('aws', ['--version']));
}

/** Whether python3 imports boto3; probed once per test file. */
export function hasBoto3(): boolean {
  return (boto3 ??= pythonImports('boto3'));
}

/** Whether `openssl version` runs; probed once per test file. */
export function hasOpenssl(): boolean {
  return (openssl ??= probe('openssl', ['version']));
}
