/**
 * `npm test` prints what the tests say, not the AWS SDK's notice that its later releases need
 * Node 22 (vitest.config.ts turns it off for the test processes and the ones they start).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

it('an SDK client made in a process the tests start prints no Node version notice', () => {
  const run = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const { EC2Client } = await import('@aws-sdk/client-ec2'); new EC2Client({ region: 'us-east-1' }); console.log('made');",
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  expect(run.stdout).toContain('made');
  expect(run.stderr).not.toContain('NodeVersionSupportWarning');
});
