/**
 * @module api/weir/inventory — the inventory reads' routes (workloads, policies and rules,
 * security groups): what the console's Workloads, Policies and Security groups screens show, and
 * any SigV4 client may read. Every one is a read: any role of the gateway account may call it.
 */
import type { RouteTable } from './route.js';
import { listPolicyRulesOp } from './policies-view.js';
import { listSecurityGroupsViewOp } from './security-groups-view.js';
import { listKnownWorkloadsOp, showWorkloadOp } from './workloads-view.js';

/** Spread into the handler's ROUTES. */
export const INVENTORY_ROUTES: RouteTable = {
  'workloads/show': [
    {
      method: 'GET',
      name: 'ShowWorkload',
      read: true,
      query: ['identity'],
      run: (c, i) => showWorkloadOp(c, i.query),
    },
  ],
  'workloads/known': [
    {
      method: 'GET',
      name: 'ListKnownWorkloads',
      read: true,
      query: ['q', 'limit'],
      run: (c, i) => listKnownWorkloadsOp(c, i.query),
    },
  ],
  policies: [
    {
      method: 'GET',
      name: 'ListPolicyRules',
      read: true,
      query: ['policy', 'rule', 'q', 'expiring', 'limit'],
      run: (c, i) => listPolicyRulesOp(c, i.query),
    },
  ],
  'security-groups': [
    {
      method: 'GET',
      name: 'ListSecurityGroupsView',
      read: true,
      query: ['groupId', 'q', 'limit'],
      run: (c, i) => listSecurityGroupsViewOp(c, i.query),
    },
  ],
};
