/**
 * @module console/ui/screens — the registry of the console's screens: one line per screen (the
 * navigation follows NAV_ORDER in main.ts, so the order of these lines does not matter).
 */
import type { Screen } from '../lib.js';
import { auditScreen } from './audit.js';
import { breakglassScreen } from './breakglass.js';
import { exceptionsScreen } from './exceptions.js';

/** Every screen. Add yours with one line. */
export const SCREENS: readonly Screen[] = [auditScreen, breakglassScreen, exceptionsScreen];
