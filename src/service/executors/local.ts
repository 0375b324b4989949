/**
 * The local executor: jobs run in kernels of this machine's Jupyter server
 * (the private one meow starts, or the one it runs inside), through the
 * kernel conductor. Resources are recorded, not enforced.
 */
import { KernelConductor } from '../conductors/kernel';
import type { IExecutionRequest, IExecutionResult } from '../tokens';
import type { IExecutor } from './executor';

export class LocalExecutor implements IExecutor {
  constructor(options: KernelConductor.IOptions) {
    this.conductor = new KernelConductor(options);
  }

  readonly kind = 'local' as const;
  readonly name = 'kernel';
  readonly conductor: KernelConductor;

  describe(): string {
    return 'kernels of this machine';
  }

  start(): Promise<void> {
    return this.conductor.start();
  }

  execute(request: IExecutionRequest): Promise<IExecutionResult> {
    return this.conductor.execute(request);
  }

  dispose(): Promise<void> {
    return this.conductor.dispose();
  }
}
