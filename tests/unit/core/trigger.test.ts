import { parsePattern, patternDigest, patternToObject, patternToYaml } from '../../../src/core/pattern';
import { listenerMismatch, parseTrigger, triggerSummary, triggerToObject } from '../../../src/core/trigger';
import { parseYaml } from '../../../src/core/pyvalue';
import type { INetworkTrigger, Trigger } from '../../../src/core/types';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NETWORK_HOST } from '../../../src/core/types';
import type { IValidationIssue } from '../../../src/core/validation';
import { formatSize, parseSize } from '../../../src/core/valueText';

/** The trigger of `trigger: <yaml>`, or the issues. */
function read(yaml: string): { trigger?: Trigger; issues: IValidationIssue[] } {
  const { value, problems } = parseYaml(`trigger: ${yaml}`);
  expect(problems).toEqual([]);
  return parseTrigger((value as { trigger: unknown }).trigger);
}

function ok(yaml: string): Trigger {
  const r = read(yaml);
  expect(r.issues).toEqual([]);
  return r.trigger!;
}

function bad(yaml: string): IValidationIssue[] {
  const r = read(yaml);
  expect(r.trigger).toBeUndefined();
  expect(r.issues.length).toBeGreaterThan(0);
  for (const i of r.issues) {
    expect(i.fix.length).toBeGreaterThan(5);
  }
  return r.issues;
}

const fields = (yaml: string) => bad(yaml).map(i => i.field);

const NET = {
  kind: 'network',
  host: DEFAULT_NETWORK_HOST,
  maxBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  maxConnections: DEFAULT_MAX_CONNECTIONS
};

describe('parseTrigger: file', () => {
  it('path and events as before', () => {
    expect(ok('{path: "start/*"}')).toEqual({ kind: 'file', path: 'start/*', events: ['created', 'modified'] });
    expect(ok('{path: "a/*", events: [deleted, moved]}')).toEqual({
      kind: 'file',
      path: 'a/*',
      events: ['moved', 'deleted']
    });
  });

  it('refuses options of other kinds, naming the field and its kind', () => {
    const [i] = bad('{path: "a/*", secret: x}');
    expect(i).toEqual({
      field: 'trigger.secret',
      message: 'only applies to network triggers ("port")',
      fix: 'remove "secret"'
    });
    expect(fields('{path: "a/*", missed: skip, timezone: UTC}')).toEqual(['trigger.missed', 'trigger.timezone']);
    expect(bad('{path: "a/*", pth: x}')[0]).toMatchObject({
      field: 'trigger.pth',
      fix: expect.stringMatching(/did you mean "path"/)
    });
  });
});

describe('parseTrigger: network', () => {
  it('defaults: host 127.0.0.1, 1 GiB, 64 connections, no secret, no TLS', () => {
    expect(ok('{port: 9000}')).toEqual({ ...NET, port: 9000 });
  });

  it('every option', () => {
    const t = ok(
      '{port: 9000, host: "0.0.0.0", secret: "s3cret", tls: {cert: certs/server.pem, key: certs/server.key}, max_bytes: 100MB, max_connections: 8}'
    );
    expect(t).toEqual({
      kind: 'network',
      port: 9000,
      host: '0.0.0.0',
      secret: 's3cret',
      tls: { cert: 'certs/server.pem', key: 'certs/server.key' },
      maxBytes: 100_000_000,
      maxConnections: 8
    });
    expect(ok('{port: 9000, max_bytes: 4096, host: "::"}')).toMatchObject({ maxBytes: 4096, host: '::' });
    expect(ok('{port: 9000, max_bytes: 1.5GiB, host: my-host.example.org}')).toMatchObject({ maxBytes: 1.5 * 2 ** 30 });
  });

  it('refuses bad values, each on its field', () => {
    expect(fields('{port: 9000, host: ""}')).toEqual(['trigger.host']);
    expect(fields('{port: 9000, host: "a b"}')).toEqual(['trigger.host']);
    expect(fields('{port: 9000, host: 5}')).toEqual(['trigger.host']);
    expect(fields('{port: 9000, host: "tcp://x"}')).toEqual(['trigger.host']);
    expect(bad('{port: 9000, host: "[::1]"}')[0].fix).toBe('write host: "::1"');
    expect(fields('{port: 9000, host: null}')).toEqual(['trigger.host']);
    expect(bad('{port: 9000, host: "0.0.0.0:9000"}')[0]).toMatchObject({
      message: expect.stringMatching(/contains a port/),
      fix: expect.stringMatching(/host: "0.0.0.0", port: 9000/)
    });
    expect(fields('{port: 9000, secret: ""}')).toEqual(['trigger.secret']);
    expect(bad('{port: 9000, secret: 12345}')[0].message).toMatch(/must be text \(got the number 12345\)/);
    expect(bad('{port: 9000, secret: "a\\nb"}')[0].message).toMatch(/single line/);
    expect(fields('{port: 9000, tls: yes}')).toEqual(['trigger.tls']);
    expect(fields('{port: 9000, tls: {cert: a.pem}}')).toEqual(['trigger.tls.key']);
    expect(fields('{port: 9000, tls: {cert: "", key: k, ca: c}}')).toEqual(['trigger.tls.ca', 'trigger.tls.cert']);
    for (const size of ['0', '-5', '1.5', '"lots"', '10XB', '[1]', '0.5B', '1e30']) {
      expect([size, fields(`{port: 9000, max_bytes: ${size}}`)]).toEqual([size, ['trigger.max_bytes']]);
    }
    for (const n of ['0', '10001', '2.5', '8.0', '"8"']) {
      expect([n, fields(`{port: 9000, max_connections: ${n}}`)]).toEqual([n, ['trigger.max_connections']]);
    }
    expect(fields('{port: 0, host: "", max_connections: 0}')).toEqual([
      'trigger.port',
      'trigger.host',
      'trigger.max_connections'
    ]);
    expect(fields('{port: 9000, events: [created], every: 5s}')).toEqual(['trigger']);
  });

  it('patterns on one port must agree on the listener', () => {
    const a = ok('{port: 9000}') as INetworkTrigger;
    expect(listenerMismatch(a, ok('{port: 9000}') as INetworkTrigger)).toBeUndefined();
    expect(listenerMismatch(a, ok('{port: 9000, host: "0.0.0.0"}') as INetworkTrigger)).toMatch(/host/);
    expect(listenerMismatch(a, ok('{port: 9000, secret: x}') as INetworkTrigger)).toMatch(/secret/);
    expect(listenerMismatch(a, ok('{port: 9000, tls: {cert: c, key: k}}') as INetworkTrigger)).toMatch(
      /tls \(none vs cert c, key k\)/
    );
    expect(listenerMismatch(a, ok('{port: 9000, max_bytes: 1MB}') as INetworkTrigger)).toMatch(
      /max_bytes \(1GiB vs 1MB\)/
    );
    expect(listenerMismatch(a, ok('{port: 9000, max_connections: 2}') as INetworkTrigger)).toMatch(/max_connections/);
  });
});

describe('parseTrigger: timers', () => {
  it('schedule with time zone and missed; every; missed defaults to once', () => {
    expect(ok('{schedule: "*/10 * * * *", timezone: "Europe/Copenhagen", missed: skip}')).toEqual({
      kind: 'schedule',
      cron: '*/10 * * * *',
      timezone: 'Europe/Copenhagen',
      missed: 'skip'
    });
    expect(ok('{schedule: "0 0 9 * * MON-FRI"}')).toEqual({
      kind: 'schedule',
      cron: '0 0 9 * * MON-FRI',
      missed: 'once'
    });
    expect(ok('{schedule: "@hourly"}')).toMatchObject({ cron: '@hourly' });
    expect(ok('{schedule: "@midnight"}')).toMatchObject({ cron: '@midnight' });
    expect(ok('{every: 30s, missed: skip}')).toEqual({ kind: 'schedule', everyMs: 30000, missed: 'skip' });
    expect(ok('{every: 1h30m, missed: once}')).toEqual({ kind: 'schedule', everyMs: 5400000, missed: 'once' });
  });

  it('an invalid cron, time zone or policy is reported on its own field', () => {
    const [cron] = bad('{schedule: "0 25 * * *"}');
    expect(cron).toMatchObject({
      field: 'trigger.schedule',
      message: 'is not a valid cron expression: the hour 25 is outside 0-23'
    });
    expect(cron.fix).toMatch(/e\.g\. "\*\/10 \* \* \* \*"/);
    const [tz] = bad('{schedule: "0 * * * *", timezone: "Europe/Copenhagn"}');
    expect(tz).toMatchObject({
      field: 'trigger.timezone',
      message: 'is not a known time zone (got "Europe/Copenhagn")'
    });
    expect(tz.fix).toMatch(/did you mean "Europe\/Copenhagen"/);
    expect(fields('{schedule: "0 * * * *", timezone: "Mars/Olympus"}')).toEqual(['trigger.timezone']);
    expect(fields('{schedule: "0 * * * *", timezone: 5}')).toEqual(['trigger.timezone']);
    expect(fields('{schedule: "0 * * * *", missed: all}')).toEqual(['trigger.missed']);
    expect(fields('{every: 5m, missed: true}')).toEqual(['trigger.missed']);
    expect(bad('{every: 5m, timezone: UTC}')[0]).toMatchObject({
      field: 'trigger.timezone',
      message: expect.stringMatching(/no time zone/)
    });
    expect(bad('{path: "a/*", timezone: UTC}')[0].message).toBe('only applies to cron schedules ("schedule")');
    expect(fields('{path: "a/*", constructor: 1, __proto__: 2}')).toEqual(['trigger.constructor', 'trigger.__proto__']);
    expect(fields('{every: 500ms}')).toEqual(['trigger.every']);
    expect(fields('{schedule: "0 * * * *", every: 5m}')).toEqual(['trigger']);
  });
});

describe('parseTrigger: manual', () => {
  it('with and without a glob of files waiting for approval', () => {
    expect(ok('{manual: true}')).toEqual({ kind: 'manual' });
    expect(ok('{manual: true, path: "review/*"}')).toEqual({ kind: 'manual', path: 'review/*' });
  });

  it('refuses a bad glob, false, events and other kinds', () => {
    expect(fields('{manual: true, path: "/abs/*"}')).toEqual(['trigger.path']);
    expect(fields('{manual: true, path: 5}')).toEqual(['trigger.path']);
    expect(fields('{manual: false}')).toEqual(['trigger.manual']);
    expect(fields('{manual: true, path: "a/*", events: [created]}')).toEqual(['trigger.events']);
    expect(bad('{manual: true, port: 9000}')[0].message).toMatch(/2 event filters \(port, manual\)/);
    expect(fields('{manual: true, secret: x}')).toEqual(['trigger.secret']);
  });
});

describe('parseTrigger: absent', () => {
  it('a glob and a silence of at least 1s', () => {
    expect(ok('{absent: {path: "in/*", for: 10m}}')).toEqual({ kind: 'absent', path: 'in/*', forMs: 600000 });
    expect(ok('{absent: {for: 1s, path: "in/**/*.csv"}}')).toEqual({
      kind: 'absent',
      path: 'in/**/*.csv',
      forMs: 1000
    });
  });

  it('refuses what is wrong, field by field', () => {
    expect(fields('{absent: true}')).toEqual(['trigger.absent']);
    expect(fields('{absent: {path: "in/*"}}')).toEqual(['trigger.absent.for']);
    expect(fields('{absent: {for: 10m}}')).toEqual(['trigger.absent.path']);
    expect(fields('{absent: {path: "../x", for: soon, since: 1}}')).toEqual([
      'trigger.absent.since',
      'trigger.absent.path',
      'trigger.absent.for'
    ]);
    expect(fields('{absent: {path: "in/*", for: 500ms}}')).toEqual(['trigger.absent.for']);
    expect(bad('{path: "in/*", absent: {for: 10m}}')[0]).toMatchObject({
      field: 'trigger',
      fix: expect.stringMatching(/inside "absent"/)
    });
    expect(fields('{absent: {path: "in/*", for: 10m}, events: [created]}')).toEqual(['trigger.events']);
  });
});

describe('parseTrigger: shape', () => {
  it('no kind, two kinds, not a mapping', () => {
    expect(bad('{}')[0]).toMatchObject({
      field: 'trigger',
      message: 'has no event filter',
      fix: expect.stringMatching(/absent: \{path/)
    });
    expect(bad('{port: 1, schedule: "* * * * *"}')[0].message).toMatch(/2 event filters \(port, schedule\)/);
    expect(bad('[a]')[0].message).toMatch(/must be a mapping \(got a list\)/);
    expect(bad('{port: 9000, host: x, colour: red}').map(i => i.field)).toEqual(['trigger.colour']);
  });
});

describe('writing triggers', () => {
  const samples = [
    '{path: "a/*", events: [moved]}',
    '{port: 9000}',
    '{port: 9000, host: "0.0.0.0", secret: "s3cret", tls: {cert: c.pem, key: k.pem}, max_bytes: 100MB, max_connections: 8}',
    '{port: 1, max_bytes: 1234}',
    '{port: 2, max_bytes: 1.5GiB}',
    '{schedule: "*/10 * * * *", timezone: "Europe/Copenhagen", missed: skip}',
    '{schedule: "@hourly"}',
    '{every: 30s}',
    '{every: 1500ms, missed: skip}',
    '{manual: true}',
    '{manual: true, path: "review/*"}',
    '{absent: {path: "in/*", for: 90m}}'
  ];

  it.each(samples)('%s: pattern parse → write → parse is the identity', yaml => {
    const p = parsePattern('p', `recipe: r\ntrigger: ${yaml}\n`).pattern!;
    expect(p).toBeDefined();
    const back = parsePattern('p', patternToYaml(p)).pattern!;
    expect(back).toEqual(p);
    expect(patternDigest(back)).toBe(patternDigest(p));
  });

  it('writes defaults only when they are not the default', () => {
    expect(triggerToObject(ok('{port: 9000, host: "127.0.0.1", max_bytes: 1GiB, max_connections: 64}'))).toEqual({
      port: 9000
    });
    expect(triggerToObject(ok('{every: 30s, missed: once}'))).toEqual({ every: '30s' });
    expect(triggerToObject(ok('{port: 9000, max_bytes: 100MB}'))).toEqual({ port: 9000, max_bytes: '100MB' });
    expect(triggerToObject(ok('{schedule: "0 * * * *", timezone: UTC, missed: skip}'))).toEqual({
      schedule: '0 * * * *',
      timezone: 'UTC',
      missed: 'skip'
    });
    expect(triggerToObject(ok('{absent: {path: "in/*", for: 600}}'))).toEqual({ absent: { path: 'in/*', for: '10m' } });
  });

  it('the thesis format stays file-only', () => {
    for (const yaml of ['{manual: true, path: "a/*"}', '{absent: {path: "a/*", for: 1m}}', '{every: 1m}']) {
      const p = parsePattern('p', `recipe: r\ntrigger: ${yaml}\n`).pattern!;
      expect(() => patternToObject(p, 'thesis')).toThrow(/only express file triggers.*native format/);
    }
  });

  it('the digest changes with every option, and holds no secret', () => {
    const digest = (yaml: string) => patternDigest(parsePattern('p', `recipe: r\ntrigger: ${yaml}\n`).pattern!);
    const variants = [
      '{port: 9000}',
      '{port: 9000, host: "0.0.0.0"}',
      '{port: 9000, secret: "s3cret"}',
      '{port: 9000, secret: "s3cret2"}',
      '{port: 9000, tls: {cert: c, key: k}}',
      '{port: 9000, max_bytes: 1MB}',
      '{port: 9000, max_connections: 1}',
      '{schedule: "0 * * * *"}',
      '{schedule: "0 * * * *", timezone: UTC}',
      '{schedule: "0 * * * *", missed: skip}',
      '{every: 1h}',
      '{manual: true}',
      '{manual: true, path: "a/*"}',
      '{absent: {path: "a/*", for: 1m}}',
      '{absent: {path: "a/*", for: 2m}}'
    ];
    const digests = variants.map(digest);
    expect(new Set(digests).size).toBe(variants.length);
    expect(digests[2]).not.toMatch(/s3cret/);
    expect(digest('{port: 9000, secret: "s3cret"}')).toBe(digests[2]);
  });
});

describe('sizes', () => {
  it('parseSize: bytes, decimal and binary units, any case', () => {
    expect(parseSize(1024)).toBe(1024);
    expect(parseSize('1024')).toBe(1024);
    expect(parseSize('512B')).toBe(512);
    expect(parseSize('500KB')).toBe(500_000);
    expect(parseSize('100 MB')).toBe(100_000_000);
    expect(parseSize('2GB')).toBe(2_000_000_000);
    expect(parseSize('1.5GiB')).toBe(1_610_612_736);
    expect(parseSize('4kib')).toBe(4096);
    expect(parseSize('1TiB')).toBe(2 ** 40);
    for (const v of [0, -1, 1.5, '', 'MB', '1.5B', '5 XB', '1e6', null, true, [1], '9999999999TB']) {
      expect([v, parseSize(v)]).toEqual([v, undefined]);
    }
  });

  it('formatSize: the shortest exact text, which parseSize reads back', () => {
    expect(formatSize(DEFAULT_MAX_PAYLOAD_BYTES)).toBe('1GiB');
    expect(formatSize(100_000_000)).toBe('100MB');
    expect(formatSize(1536)).toBe('1536B');
    expect(formatSize(1_500_000)).toBe('1500KB');
    expect(formatSize(2048)).toBe('2KiB');
    expect(formatSize(7)).toBe('7B');
    for (const n of [1, 999, 1000, 1024, 1_000_000, 1_048_576, 123_456_789, 2 ** 40, 5e12, DEFAULT_MAX_PAYLOAD_BYTES]) {
      expect(parseSize(formatSize(n))).toBe(n);
    }
  });
});

describe('warnings and summaries', () => {
  const warnings = (yaml: string) => parsePattern('p', `recipe: r\ntrigger: ${yaml}\ninput: f\n`).warnings;

  it('warns about a listener other machines reach without a secret', () => {
    expect(warnings('{port: 9000, host: "0.0.0.0"}')).toEqual([
      expect.objectContaining({ field: 'trigger.host', message: expect.stringMatching(/without a secret/) })
    ]);
    expect(warnings('{port: 9000, host: "0.0.0.0", tls: {cert: c, key: k}}')).toHaveLength(1);
    expect(warnings('{port: 9000, host: "0.0.0.0", secret: x}')).toEqual([]);
    expect(warnings('{port: 9000}')).toEqual([]);
    expect(warnings('{port: 9000, host: localhost}')).toEqual([]);
  });

  it('a manual glob is the trigger file for output checks', () => {
    const p = parsePattern(
      'p',
      'recipe: r\ntrigger: {manual: true, path: "a/*"}\ninput: f\noutputs: {o: "{VGRID}/{REL_DIR}/../../x"}\n'
    );
    expect(p.warnings.map(w => w.field)).toEqual(['outputs.o']);
  });

  it('summaries never show a secret', () => {
    const s = (yaml: string) => triggerSummary(ok(yaml));
    expect(s('{path: "a/*"}')).toBe('files a/* (created, modified)');
    expect(s('{port: 9000, host: "0.0.0.0", secret: "s3cret", tls: {cert: c, key: k}}')).toBe(
      'TLS port 9000 on 0.0.0.0 with a secret'
    );
    expect(s('{schedule: "0 * * * *", timezone: UTC}')).toBe('cron "0 * * * *" (UTC)');
    expect(s('{every: 90s}')).toBe('every 90s');
    expect(s('{manual: true, path: "review/*"}')).toBe('manual approval of review/*');
    expect(s('{absent: {path: "in/*", for: 10m}}')).toBe('nothing matching in/* for 10m');
  });
});
