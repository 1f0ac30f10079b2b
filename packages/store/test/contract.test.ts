import { runAllStoreContracts } from '../src/contracts/run-all-store-contracts.js';
import { describeDialects } from '../src/testing/open-test-store.js';

// Every store contract against every dialect (STYLE.md §5): one store per dialect, fresh ids per test.
await describeDialects('store contracts', (_dialect, open) => runAllStoreContracts(open));
