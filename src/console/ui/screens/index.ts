/**
 * @module console/ui/screens — the registry of the console's screens: one line per screen (the
 * navigation follows NAV_ORDER in main.ts, so the order of these lines does not matter).
 */
import type { Screen } from '../lib.js';
import { auditScreen } from './audit.js';
import { breakglassScreen } from './breakglass.js';
import { decisionsScreen } from './decisions.js';
import { exceptionsScreen } from './exceptions.js';
import { overviewScreen } from './overview.js';
import { policiesScreen } from './policies.js';
import { securityGroupsScreen } from './security-groups.js';
import { workloadsScreen } from './workloads.js';

/** Every screen. Add yours with one line. */
export const SCREENS: readonly Screen[] = [
  auditScreen,
  breakglassScreen,
  decisionsScreen,
  overviewScreen,
  workloadsScreen,
  policiesScreen,
  securityGroupsScreen,
  exceptionsScreen,
];
