/**
 * @module api/regions — the regions the API serves. A region is a namespace (its own groups,
 * VPCs and rules), so a server that served any name a client signs for would let a client make
 * up namespaces without end. By default the API serves AWS's region names; `weir serve
 * --regions` names others (a lab's `local`, or fewer).
 */
import { Ec2Error } from '../model/index.js';

/**
 * AWS's region names (commercial, GovCloud, China, the European Sovereign Cloud and the
 * isolated partitions), as SDKs and tools sign for them. A fixed list: the server must not
 * depend on an SDK's endpoint tables to decide what it serves.
 */
export const AWS_REGIONS: readonly string[] = [
  // Commercial
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  // AWS GovCloud (US)
  'us-gov-east-1',
  'us-gov-west-1',
  // China
  'cn-north-1',
  'cn-northwest-1',
  // European Sovereign Cloud
  'eusc-de-east-1',
  // Isolated partitions
  'us-iso-east-1',
  'us-iso-west-1',
  'us-isob-east-1',
  'us-isof-east-1',
  'us-isof-south-1',
  'eu-isoe-west-1',
];

/** What a region name may look like (`--regions`): lower-case letters, digits and dashes. */
export const REGION_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Refuses a region the server does not serve, before anything reads or writes in it.
 * EC2's code for a credential scoped to a region the endpoint does not serve is AuthFailure.
 * @throws Ec2Error AuthFailure naming the region and the flag that would serve it.
 */
export function checkRegion(served: ReadonlySet<string>, region: string): void {
  if (served.has(region)) return;
  // The name is the caller's own input; bounded so an error line stays small.
  const shown = region.length > 64 ? `${region.slice(0, 64)}…` : region;
  throw new Ec2Error(
    'AuthFailure',
    `Credential should be scoped to a valid region, not '${shown}': this server does not serve it. ` +
      "Sign for one of its regions (AWS's region names unless weir serve --regions NAME,… says otherwise).",
  );
}
