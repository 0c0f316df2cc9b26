// The owner process bench/lifetime.bench.ts starts and kills: test/support/taskOwner.ts, bundled beside it.
import '../test/support/taskOwner';
