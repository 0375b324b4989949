/**
 * The definition parser's worker thread (see definitionParser.ts): answers
 * parse requests with the pure core's results. Built to its own file
 * (scripts/bundle-service.mjs), so the worker loads nothing but this.
 */
import { parentPort } from 'worker_threads';
import { FILE_FIELD, issue } from '../../core/validation';
import { encode, IParsedDefinition, IParseRequest, parseDefinition } from './definitionParser';

const port = parentPort;
if (port) {
  port.on('message', (msg: { id: number; req: IParseRequest }) => {
    let result: IParsedDefinition;
    try {
      result = parseDefinition(msg.req);
    } catch (err) {
      result = {
        issues: [issue(FILE_FIELD, `could not be read: ${(err as Error).message}`, 'check the file')],
        warnings: []
      };
    }
    port.postMessage({ id: msg.id, result: encode(result) });
  });
}
