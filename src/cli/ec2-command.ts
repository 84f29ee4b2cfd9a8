/**
 * @module cli/ec2-command — registers `weir ec2 …` and `weir sts …`: the AWS CLI's commands for
 * Weir's EC2 operations and STS GetCallerIdentity. The arguments are handed over untouched to
 * {@link runCli}, which parses them as the AWS CLI does (global options anywhere after the
 * service), and its exit code becomes the process's.
 */
import type { Command } from 'commander';
import { runCli } from './ec2/index.js';

/** Adds the `ec2` and `sts` commands to `program`. */
export function registerAwsCommands(program: Command): void {
  const services = [
    ['ec2', 'EC2 security-group, prefix-list, tag and VPC commands, as the AWS CLI has them (weir ec2 help)'],
    ['sts', 'STS get-caller-identity, as the AWS CLI has it'],
  ] as const;
  for (const [name, description] of services) {
    program
      .command(name)
      .description(description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[args...]', 'command and options, as for the AWS CLI')
      .action(async (args: string[]) => {
        process.exitCode = await runCli([name, ...args]);
      });
  }
}
