import type { IFileEvent } from '../../../src/core/types';
import { Settler } from '../../../src/service/monitors/settle';
import { isIgnoredPath } from '../../../src/service/monitors/fileMonitor';

describe('Settler', () => {
  let events: IFileEvent[];
  let settler: Settler;
  beforeEach(() => {
    jest.useFakeTimers();
    events = [];
    settler = new Settler({ settleMs: 100, maxHoldMs: 1000, emit: e => events.push(e) });
  });
  afterEach(() => jest.useRealTimers());

  it('coalesces an add and a burst of changes into one created event after the window', () => {
    settler.push({ kind: 'add', path: 'a' });
    jest.advanceTimersByTime(60);
    settler.push({ kind: 'change', path: 'a' });
    jest.advanceTimersByTime(60);
    expect(events).toEqual([]);
    expect(settler.pending).toBe(1);
    jest.advanceTimersByTime(50);
    expect(events.map(e => [e.kind, e.path])).toEqual([['created', 'a']]);
    expect(settler.pending).toBe(0);
  });

  it('settles each path on its own clock', () => {
    settler.push({ kind: 'add', path: 'a' });
    jest.advanceTimersByTime(90);
    settler.push({ kind: 'add', path: 'b' });
    jest.advanceTimersByTime(20);
    expect(events.map(e => e.path)).toEqual(['a']);
    jest.advanceTimersByTime(100);
    expect(events.map(e => e.path)).toEqual(['a', 'b']);
  });

  it('reports modified, deleted, and nothing for a file created and removed in one window', () => {
    settler.push({ kind: 'change', path: 'm' });
    settler.push({ kind: 'unlink', path: 'd' });
    settler.push({ kind: 'add', path: 'gone' });
    settler.push({ kind: 'unlink', path: 'gone' });
    jest.advanceTimersByTime(200);
    expect(events.map(e => [e.kind, e.path]).sort()).toEqual([
      ['deleted', 'd'],
      ['modified', 'm']
    ]);
  });

  it('does not hold a continuously written file longer than the cap', () => {
    settler.push({ kind: 'add', path: 'log' });
    for (let t = 0; t < 1200; t += 50) {
      jest.advanceTimersByTime(50);
      settler.push({ kind: 'change', path: 'log' });
    }
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events[0].kind).toBe('created');
  });

  it('pairs an unlink and an add of the same inode into a move', () => {
    settler.push({ kind: 'add', path: 'old/name.txt', ino: 42 });
    jest.advanceTimersByTime(200);
    events.length = 0;
    settler.push({ kind: 'unlink', path: 'old/name.txt' });
    settler.push({ kind: 'add', path: 'new/name.txt', ino: 42 });
    jest.advanceTimersByTime(200);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'moved', path: 'new/name.txt', from: 'old/name.txt' });
  });

  it('has() knows files reported since start, pending or settled, until they are deleted', () => {
    settler.push({ kind: 'add', path: 'a', ino: 1 });
    expect(settler.has('a')).toBe(true);
    jest.advanceTimersByTime(200);
    expect(settler.has('a')).toBe(true);
    settler.push({ kind: 'unlink', path: 'a' });
    expect(settler.has('a')).toBe(false);
    jest.advanceTimersByTime(200);
    expect(settler.has('a')).toBe(false);
    expect(settler.has('never')).toBe(false);
  });

  it('hands on the last known size, mtime and inode with the event, and says what is pending', () => {
    const infos: unknown[] = [];
    const s = new Settler({ settleMs: 100, emit: (_e, info) => infos.push(info) });
    s.push({ kind: 'add', path: 'f', ino: 5, size: 1, mtimeMs: 10 });
    s.push({ kind: 'change', path: 'f', ino: 5, size: 9, mtimeMs: 20 });
    expect(s.isPending('f')).toBe(true);
    expect(s.isPending('g')).toBe(false);
    jest.advanceTimersByTime(150);
    expect(s.isPending('f')).toBe(false);
    expect(infos).toEqual([{ ino: 5, size: 9, mtimeMs: 20 }]);
  });

  it('pairs an unlink that carries its inode (from a scan) with an add into a move', () => {
    settler.push({ kind: 'unlink', path: 'a/x', ino: 77 });
    settler.push({ kind: 'add', path: 'b/x', ino: 77 });
    jest.advanceTimersByTime(200);
    expect(events.map(e => [e.kind, e.from, e.path])).toEqual([['moved', 'a/x', 'b/x']]);
  });

  it('pairs an add that arrives before the unlink of the same inode into a move', () => {
    // The monitor stats both names of a rename separately; the new name's answer may come first.
    settler.push({ kind: 'add', path: 'b/y', ino: 78 });
    jest.advanceTimersByTime(20);
    settler.push({ kind: 'unlink', path: 'a/y', ino: 78 });
    jest.advanceTimersByTime(200);
    expect(events.map(e => [e.kind, e.from, e.path])).toEqual([['moved', 'a/y', 'b/y']]);
    expect(settler.pending).toBe(0);
  });

  it('does not pair an unlink with an add of the same inode that has already settled', () => {
    settler.push({ kind: 'add', path: 'c/z', ino: 79 });
    jest.advanceTimersByTime(200);
    settler.push({ kind: 'unlink', path: 'old/z', ino: 79 });
    jest.advanceTimersByTime(200);
    expect(events.map(e => [e.kind, e.from, e.path])).toEqual([
      ['created', undefined, 'c/z'],
      ['deleted', undefined, 'old/z']
    ]);
  });

  it('coalesce() judges only existence before and after the window', () => {
    expect(Settler.coalesce(false, true)).toBe('created');
    expect(Settler.coalesce(true, true)).toBe('modified');
    expect(Settler.coalesce(true, false)).toBe('deleted');
    expect(Settler.coalesce(false, false)).toBeUndefined();
    expect(Settler.coalesce(false, true, 'x')).toBe('moved');
  });
});

describe('isIgnoredPath', () => {
  it.each([
    ['.meow/jobs/1/job.yaml', true],
    ['.meow/patterns/a.yaml', true],
    ['data/.ipynb_checkpoints/x-checkpoint.ipynb', true],
    ['data/.~lock.sheet.ods#', true],
    ['data/.report.txt.swp', true],
    ['data/file.txt~', true],
    ['data/download.part', true],
    ['data/.hidden', false],
    ['data/README', false],
    ['start/Alpha.txt', false]
  ])('%s → %s', (p, expected) => {
    expect(isIgnoredPath(p, '.meow')).toBe(expected);
  });
});
