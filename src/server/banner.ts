/**
 * @module server/banner — what `weir serve` tells a person on start: where the API and the gateway
 * listen, what the gateway enforces and how it knows who is asking, and commands to try both.
 * Machine-readable facts go to the log; this is for the terminal (stderr).
 */
import type { ServerConfig } from './config.js';

/** What was started, beyond the config. */
export interface BannerFacts {
  readonly apiUrl: string;
  readonly credentialsFile: string;
  /** The profile of the first access key, for the example command. */
  readonly profile?: string;
  /** The credentials file was created on this start. */
  readonly createdKey: boolean;
  /** `host:port` of the gateway, when it runs. */
  readonly proxyAddress?: string;
}

/** The gateway's lines: where, what it enforces, whom it recognises, and a request to try. */
function gatewayLines(config: ServerConfig, proxyAddress: string | undefined): string[] {
  const gateway = config.gateway;
  if (gateway === undefined || proxyAddress === undefined)
    return ['Egress gateway: off (--proxy-listen off)'];
  const { accountId, region } = gateway.scope;
  const policy =
    config.policy.kind === 'dir'
      ? `the policy files in ${config.policy.dir} (watched)`
      : 'the signed policy bundle applied through the API (weir policy bundle apply), once there is one';
  const identity = [
    'bearer tokens (weir token issue)',
    ...(gateway.tls?.clientCa !== undefined ? ['client certificates (--proxy-client-ca)'] : []),
    ...(gateway.identityMapFile !== undefined ? [`source addresses (${gateway.identityMapFile})`] : []),
  ];
  const scheme = gateway.tls !== undefined ? 'https' : 'http';
  return [
    `Egress gateway: ${scheme}://${proxyAddress} (an HTTP proxy: CONNECT and plain HTTP)`,
    `  enforces: ${policy},`,
    `            and the egress rules of account ${accountId}'s security groups in ${region} attached to identities (weir workload attach)`,
    `  identity: ${identity.join(', ')}; a request with none is refused (407), anything not allowed is denied (403)`,
    'Send a request through it:',
    `  curl --proxy ${scheme}://${proxyAddress} --proxy-header "Proxy-Authorization: Bearer $(weir token issue --identity ID)" https://HOST/`,
  ];
}

/** The start banner. */
export function startBanner(config: ServerConfig, facts: BannerFacts): string {
  const profile = facts.profile ?? 'default';
  return `${[
    ...(facts.createdKey
      ? [`Created an admin access key in ${facts.credentialsFile} (profile "${profile}").`]
      : []),
    `Weir EC2 API: ${facts.apiUrl}`,
    'Try it with the AWS CLI:',
    `  AWS_SHARED_CREDENTIALS_FILE=${facts.credentialsFile} aws --profile ${profile} --region us-east-1 --endpoint-url ${facts.apiUrl} ec2 describe-security-groups`,
    ...gatewayLines(config, facts.proxyAddress),
  ].join('\n')}\n`;
}
