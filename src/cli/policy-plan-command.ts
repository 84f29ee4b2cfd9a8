/**
 * @module cli/policy-plan-command — registers `weir policy plan|apply|resolve`. The work is in
 * `policy-plan.ts`, loaded when one of them runs: it brings the AWS SDK (about 0.45 s and 90 MB
 * per process here), which no other command, `weir serve` included, needs.
 */
import type { Command } from 'commander';
import type * as PolicyPlan from './policy-plan.js';
import type { PlanIo, ResolveFlags } from './policy-plan.js';
import { planTarget } from './policy-plan-target.js';
import type { TargetFlags } from './policy-plan-target.js';

/** `--format` of plan and apply. */
export const PLAN_FORMATS = ['text', 'json'] as const;

const load = (): Promise<typeof PolicyPlan> => {
  // The SDK warns on every run under Node 20 that its releases after January 2027 will need
  // Node 22. Weir pins its SDK version (package-lock), so the warning says nothing about this
  // command; a user who wants it sets the variable to anything but "true".
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return import('./policy-plan.js');
};

interface CliFlags {
  aws?: boolean;
  endpointUrl?: string;
  profile?: string;
  region?: string;
  vpcId?: string;
  format: string;
  detailedExitcode?: boolean;
  prune?: boolean;
  yes?: boolean;
  dnsServer?: string;
  dnsHosts?: string;
}

/** The flags with their target decided: before the SDK loads, so a usage error costs nothing. */
function targeted<F extends TargetFlags>(flags: F): F & { target: ReturnType<typeof planTarget> } {
  return { ...flags, target: planTarget(flags) };
}

/** `--endpoint-url`, `--aws`, `--profile`, `--region`: where the calls go. */
function targetOptions(c: Command): Command {
  return c
    .option(
      '--endpoint-url <url>',
      'the EC2 endpoint of another Weir (default: the local weir serve of ./weir-data or WEIR_DATA_DIR)',
    )
    .option(
      '--aws',
      'AWS itself: its endpoint and the default credential chain (environment, --profile, files)',
    )
    .option(
      '--profile <name>',
      "credentials profile (shared files); without --aws, the profile's endpoint_url",
    )
    .option(
      '--region <region>',
      'region (default: us-east-1 on Weir; with --aws, AWS_REGION or the profile)',
    );
}

function io(): PlanIo {
  return { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };
}

/** Registers `policy plan`, `policy apply` and `policy resolve` on the `weir policy` command. */
export function registerPolicyPlanCommands(policy: Command): void {
  const common = (c: Command): Command =>
    targetOptions(c.argument('<dir>', 'policy directory'))
      .option('--vpc-id <id>', 'VPC of the groups (default: the default VPC)')
      .option('--format <format>', `output format: ${PLAN_FORMATS.join(' | ')}`, 'text')
      .option('--prune', 'delete managed groups whose policy is no longer in DIR');

  common(policy.command('plan'))
    .description(
      'Show the security-group changes that apply would make. Exit 0, or 2 with --detailed-exitcode when changes are pending; 1 on error.',
    )
    .option('--detailed-exitcode', 'exit 2 when changes are pending')
    .action(async (dir: string, flags: CliFlags) => {
      process.exitCode = await (await load()).runPolicyPlan(dir, targeted(flags), io());
    });

  const dns = (c: Command): Command =>
    c
      .option('--dns-server <ip:port>', 'DNS server FQDNs are resolved with (default: the system resolver)')
      .option('--dns-hosts <file>', 'static hosts file consulted first, as the gateway does');

  dns(common(policy.command('apply')))
    .description(
      'Make the security groups (one per policy) and FQDN prefix lists match the policy set. Exit 1 on error.',
    )
    .option('--yes', 'apply without asking')
    .action(async (dir: string, flags: CliFlags) => {
      process.exitCode = await (await load()).runPolicyApply(dir, targeted(flags), io());
    });

  dns(targetOptions(policy.command('resolve').argument('<dir>', 'policy directory')))
    .option('--every <duration>', 'repeat every DURATION (30s, 5m, 1h) until SIGINT/SIGTERM')
    .description(
      "Update each FQDN's prefix lists to the name's current addresses. Exit 0, or 1 on EC2 errors; a name that does not resolve is a warning.",
    )
    .action(async (dir: string, cli: ResolveFlags & TargetFlags) => {
      const flags = targeted(cli);
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        process.exitCode = await (
          await load()
        ).runPolicyResolve(dir, flags, { ...io(), signal: stop.signal });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
