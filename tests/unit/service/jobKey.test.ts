/**
 * A job's idempotency key must never change between versions: the journal
 * of every existing workgroup holds keys, and a new key for the same work
 * would run all of it again after an upgrade.
 */
import { createHash } from 'crypto';
import type { IJobTrigger } from '../../../src/core/types';
import { JobFactory } from '../../../src/service/jobs/jobFactory';

const trigger = (path: string, hash?: string): IJobTrigger => ({
  kind: 'created',
  path,
  time: '2026-11-30T00:00:00.000Z',
  hash
});

describe('JobFactory.key', () => {
  it('is the first 32 hex digits of sha256(rule key, path, content, values joined by newlines), as before', () => {
    const ruleKey = '{"input":"infile","name":"P","trigger":{"path":"in/*"}}|' + 'e'.repeat(64);
    const expected = createHash('sha256')
      .update([ruleKey, 'in/a.dat', 'abc123', '{"n":1}'].join('\n'))
      .digest('hex')
      .slice(0, 32);
    expect(JobFactory.key(ruleKey, trigger('in/a.dat', 'abc123'), { n: 1 })).toBe(expected);
    // The same rule key again (its hash state is reused) and another one.
    expect(JobFactory.key(ruleKey, trigger('in/a.dat', 'abc123'), { n: 1 })).toBe(expected);
    expect(JobFactory.key(ruleKey, trigger('in/b.dat', 'abc123'), { n: 1 })).not.toBe(expected);
    expect(JobFactory.key(ruleKey + 'x', trigger('in/a.dat', 'abc123'), { n: 1 })).not.toBe(expected);
  });

  it('a fixed key stays fixed (a value from before this version)', () => {
    expect(JobFactory.key('R', trigger('p', 'h'), {})).toBe('0292bdfc200bc58382c5cfb7ac1c061b');
  });
});
