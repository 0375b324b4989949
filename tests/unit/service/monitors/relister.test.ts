/**
 * DirRelister: a folder with activity is listed again after it; a listing
 * that finds what the watcher missed is followed by another until one finds
 * nothing (issue 9: a watcher that dropped notifications may drop the last
 * ones of a burst too, leaving no activity to ask for the listing).
 */
import { DirRelister } from '../../../../src/service/monitors/relister';
import { until } from '../../../helpers/workgroup';
import { sleep } from './helpers';

describe('DirRelister', () => {
  let relister: DirRelister | undefined;
  afterEach(() => relister?.stop());

  const start = (found: number[]) => {
    const calls: string[] = [];
    relister = new DirRelister({
      delayMs: 10,
      maxWaitMs: 50,
      maxCooldownMs: 20,
      list: async dir => {
        calls.push(dir);
        return found.shift() ?? 0;
      }
    });
    relister.start();
    return calls;
  };

  it('lists a folder once after its activity when the listing finds nothing', async () => {
    const calls = start([0]);
    relister!.touch('in');
    relister!.touch('in');
    await until(() => calls.length === 1, 2000, 'the listing');
    await until(() => relister!.pending === 0, 2000, 'done');
    await sleep(100);
    expect(calls).toEqual(['in']);
  });

  it('lists again after a listing that found missed files, until one finds nothing', async () => {
    const calls = start([3, 1, 0]);
    relister!.touch('in');
    await until(() => relister!.pending === 0, 2000, 'the listings');
    await sleep(100);
    expect(calls).toEqual(['in', 'in', 'in']);
  });

  it('says a failed listing and does not repeat it without new activity', async () => {
    const errors: string[] = [];
    const calls: string[] = [];
    relister = new DirRelister({
      delayMs: 10,
      list: async dir => {
        calls.push(dir);
        throw new Error('EACCES');
      },
      onError: (dir, err) => errors.push(`${dir}: ${err.message}`)
    });
    relister.start();
    relister.touch('locked');
    await until(() => relister!.pending === 0, 2000, 'the listing');
    await sleep(100);
    expect(calls).toEqual(['locked']);
    expect(errors).toEqual(['locked: EACCES']);
  });
});
