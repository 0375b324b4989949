/** schema/openapi.yaml describes exactly the routes the service implements, and its references resolve. */
import { readFileSync } from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ApiServer } from '../../../../src/service/api/server';

const spec = YAML.parse(readFileSync(path.resolve(__dirname, '../../../../schema/openapi.yaml'), 'utf8'));

describe('schema/openapi.yaml', () => {
  it('is OpenAPI 3.1 with the documented routes and methods', () => {
    expect(spec.openapi).toMatch(/^3\.1\./);
    const documented = Object.entries(spec.paths as Record<string, Record<string, unknown>>)
      .flatMap(([p, ops]) =>
        Object.keys(ops)
          .filter(k => ['get', 'put', 'post', 'delete', 'patch'].includes(k))
          .map(m => `${m.toUpperCase()} ${p}`)
      )
      .sort();
    expect(documented).toEqual(ApiServer.ROUTES.map(([m, p]) => `${m} ${p}`).sort());
  });

  it('documents 401 (no secret) and 403 (no Jupyter auth) on every operation', () => {
    for (const [p, ops] of Object.entries(spec.paths as Record<string, Record<string, any>>)) {
      for (const [m, op] of Object.entries(ops)) {
        if (m === 'parameters') {
          continue;
        }
        expect([p, m, Object.keys(op.responses)]).toEqual([p, m, expect.arrayContaining(['401', '403'])]);
      }
    }
  });

  it('has no dangling $ref', () => {
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) {
        v.forEach(walk);
      } else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref' && typeof x === 'string') {
            refs.push(x);
          } else {
            walk(x);
          }
        }
      }
    };
    walk(spec);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      const target = ref
        .replace(/^#\//, '')
        .split('/')
        .reduce((o: any, k) => (o ? o[k] : undefined), spec);
      expect([ref, target !== undefined]).toEqual([ref, true]);
    }
  });
});
