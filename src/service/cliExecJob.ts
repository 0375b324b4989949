/**
 * `meow exec-job JOBDIR`: the command a Slurm batch script runs on the
 * compute node (see executors/execJob.ts). Not for people, but safe to run
 * by hand to repeat a job's execution in place.
 */
import { Command } from 'commander';
import { consoleLogger } from './log';
import { execJob } from './executors/execJob';

interface IExecJobOptions {
  python?: string;
  verbose?: boolean;
}

export function addExecJobCommand(program: Command): Command {
  program
    .command('exec-job')
    .description(
      'run one job from its folder (exec.json, job.ipynb) on this machine with a private kernel, writing ' +
        'result.ipynb, exec-result.json and job.yaml; what Slurm batch scripts run on compute nodes'
    )
    .argument('<jobdir>', 'the job folder, .meow/jobs/<job-id> of the workgroup')
    .option('--python <path>', 'Python with jupyter_server and ipykernel (default: the one in exec.json, $MEOW_PYTHON)')
    .option('-v, --verbose', 'print debug messages')
    .action(async (jobDir: string, opts: IExecJobOptions) => {
      const log = consoleLogger(!!opts.verbose);
      if (!opts.verbose) {
        console.debug = () => undefined;
      }
      try {
        process.exitCode = await execJob(jobDir, log, opts.python);
      } catch (err) {
        log.error((err as Error).message);
        process.exitCode = 2;
      }
    });
  return program;
}
