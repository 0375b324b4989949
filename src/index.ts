/**
 * The JupyterLab side of meow: the status-bar item, "Register notebook as
 * recipe", and the Workflow, Monitor and Report panels, all talking to the
 * meow service through `src/lab/client.ts`. The engine runs in the service.
 */
import { plugins } from './lab/plugins';

export * from './lab/tokens';
export { MeowClient, MeowApiError } from './lab/client';

export default plugins;
