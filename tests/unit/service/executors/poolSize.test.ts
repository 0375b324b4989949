/**
 * The default pool of pre-started kernels keeps ahead of the workers: a
 * kernel takes ~0.4 s to start and connect, a short job ~0.1 s, so one more
 * kernel than workers left the workers waiting (see localPoolSize).
 */
import { localPoolSize } from '../../../../src/service/executors/configure';

describe('localPoolSize', () => {
  it('is three kernels per worker, at least 4 and at most 16', () => {
    const none = {};
    expect([1, 2, 3, 5, 6, 32].map(w => localPoolSize(w, none))).toEqual([4, 6, 9, 15, 16, 16]);
  });

  it('MEOW_KERNEL_POOL wins when it is a whole number of 0 or more; otherwise the default', () => {
    expect(localPoolSize(2, { MEOW_KERNEL_POOL: '0' })).toBe(0);
    expect(localPoolSize(2, { MEOW_KERNEL_POOL: '40' })).toBe(40);
    for (const bad of ['', '-1', '1.5', 'many']) {
      expect(localPoolSize(2, { MEOW_KERNEL_POOL: bad })).toBe(6);
    }
  });
});
