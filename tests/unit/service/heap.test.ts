/** heap.ts: the one full collection after a large start-up really collects. */
import { collectGarbage } from '../../../src/service/heap';

describe('collectGarbage', () => {
  it('is available without a command-line flag and returns garbage to the heap', () => {
    let garbage: { text: string }[] | undefined = [];
    for (let i = 0; i < 500_000; i++) {
      garbage.push({ text: `record ${i} of a replayed journal` });
    }
    const before = process.memoryUsage().heapUsed;
    garbage = undefined;
    expect(collectGarbage()).toBe(true);
    const freed = before - process.memoryUsage().heapUsed;
    expect(freed).toBeGreaterThan(20 * 2 ** 20);
    expect(garbage).toBeUndefined();
  });
});
