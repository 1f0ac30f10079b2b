import type { Store } from '@keyward/core';
import { accountStoreContract } from './account-store.contract.js';
import { auditStoreContract } from './audit-store.contract.js';
import { invalidationStoreContract } from './invalidation-store.contract.js';
import { keyStoreContract } from './key-store.contract.js';
import { memberStoreContract } from './member-store.contract.js';
import { metaStoreContract } from './meta-store.contract.js';
import { orgStoreContract } from './org-store.contract.js';
import { policyStoreContract } from './policy-store.contract.js';
import { scheduleStoreContract } from './schedule-store.contract.js';
import { signingKeyStoreContract } from './signing-key-store.contract.js';
import { structureStoreContract } from './structure-store.contract.js';
import { transactionContract } from './transaction.contract.js';
import { usageStoreContract } from './usage-store.contract.js';
import { webhookStoreContract } from './webhook-store.contract.js';

/**
 * Every store contract, for one store. `open` may return the same store each time: tests keep
 * apart by fresh ids, never by emptying tables.
 */
export function runAllStoreContracts(open: () => Promise<Store>): void {
  orgStoreContract(open);
  policyStoreContract(open);
  accountStoreContract(open);
  memberStoreContract(open);
  structureStoreContract(open);
  keyStoreContract(open);
  auditStoreContract(open);
  usageStoreContract(open);
  signingKeyStoreContract(open);
  metaStoreContract(open);
  invalidationStoreContract(open);
  transactionContract(open);
  scheduleStoreContract(open);
  webhookStoreContract(open);
}
