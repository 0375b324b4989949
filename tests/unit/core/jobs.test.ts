import {
  JOB_STATUSES,
  canTransition,
  isFinalStatus,
  isJobId,
  jobIdSeq,
  jobIdTime,
  makeJobId,
  parseJobId
} from '../../../src/core/jobs';
import type { JobStatus } from '../../../src/core/types';

describe('job statuses (spec §6)', () => {
  it('final statuses', () => {
    expect(JOB_STATUSES.filter(isFinalStatus)).toEqual(['done', 'failed', 'cancelled', 'skipped']);
  });

  it('allowed transitions, and nothing else', () => {
    const allowed: [JobStatus, JobStatus][] = [
      ['queued', 'running'],
      ['queued', 'cancelled'],
      ['queued', 'skipped'],
      ['queued', 'failed'],
      ['running', 'done'],
      ['running', 'failed'],
      ['running', 'cancelled'],
      ['running', 'queued'] // a crash interrupted it: it runs again as the same job
    ];
    for (const from of JOB_STATUSES) {
      for (const to of JOB_STATUSES) {
        const expected = allowed.some(([f, t]) => f === from && t === to);
        expect([from, to, canTransition(from, to)]).toEqual([from, to, expected]);
      }
    }
  });

  it('a final status never changes', () => {
    for (const s of JOB_STATUSES.filter(isFinalStatus)) {
      expect(JOB_STATUSES.some(t => canTransition(s, t))).toBe(false);
    }
  });
});

describe('job ids', () => {
  const t = Date.UTC(2026, 10, 22, 2, 44, 33, 123);

  it('have fixed-width UTC fields', () => {
    expect(makeJobId(t, 1, 'ab12')).toBe('20261122-024433-123-000001-ab12');
    expect(makeJobId(0, 0, 'x')).toBe('19700101-000000-000-000000-x');
  });

  it('sort lexicographically by creation time, then seq', () => {
    const made = [
      makeJobId(t + 1000, 0, 'zz'),
      makeJobId(t, 2, 'aa'),
      makeJobId(t, 10, 'aa'),
      makeJobId(t + 1, 0, 'aa'),
      makeJobId(t - 86400000, 999999, 'ff')
    ];
    expect([...made].sort()).toEqual([made[4], made[1], made[2], made[3], made[0]]);
  });

  it('keep seq modulo 10^6', () => {
    expect(makeJobId(t, 1000001, 'a')).toBe('20261122-024433-123-000001-a');
  });

  it('jobIdTime and parseJobId read the time back', () => {
    const id = makeJobId(t, 42, 'beef');
    expect(jobIdTime(id)).toBe(t);
    expect(parseJobId(id)).toEqual({ time: t, seq: 42, suffix: 'beef' });
    expect(isJobId(id)).toBe(true);
    expect(jobIdTime('not-an-id')).toBeNaN();
    expect(isJobId('20261322-024433-123-000001-ab')).toBe(false);
  });

  it('jobIdSeq reads the sequence as parseJobId does, and nothing from other text', () => {
    for (const seq of [0, 42, 999999]) {
      const id = makeJobId(t, seq, 'beef');
      expect(jobIdSeq(id)).toBe(parseJobId(id)!.seq);
    }
    expect(jobIdSeq('not-an-id')).toBeUndefined();
    expect(jobIdSeq('20261122-024433-123-00001-ab')).toBeUndefined();
    expect(jobIdSeq('20261122-024433-123-000001-a-b')).toBeUndefined();
  });

  it('reject bad input', () => {
    expect(() => makeJobId(NaN, 0, 'a')).toThrow(RangeError);
    expect(() => makeJobId(t, -1, 'a')).toThrow(RangeError);
    expect(() => makeJobId(t, 1.5, 'a')).toThrow(RangeError);
    expect(() => makeJobId(t, 0, 'a-b')).toThrow(RangeError);
    expect(() => makeJobId(t, 0, '')).toThrow(RangeError);
  });
});
