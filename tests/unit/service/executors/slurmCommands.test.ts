/**
 * The Slurm command client without Slurm: parsers on output captured from
 * Slurm 22.05 (Debian bookworm, `make slurm`), and submission (throttle,
 * retries, lookup before retry) against small fake commands.
 */
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  isFinalSlurmState,
  parseSbatchOutput,
  parseScontrolFields,
  parseScontrolJob,
  parseSlurmState,
  parseSqueueLines,
  sbatchDirectives,
  SLURM_STATES,
  SlurmCommands,
  SlurmCommandError,
  slurmStateMeaning,
  SQUEUE_FORMAT
} from '../../../../src/service/executors/slurmCommands';
import { RecordingLogger } from '../../../../src/service/log';

// `squeue -h --all -t all -O SQUEUE_FORMAT`, captured (\x1f is the separator).
const SQUEUE_OUTPUT = [
  '3\x1fCANCELLED\x1fNone\x1fvm\x1f0:16\x1f365-00:00:00\x1f15\x1f/tmp/sl/slurm-3.out\x1flongrun',
  '10\x1fCANCELLED\x1fJobHeldUser\x1f\x1f0:00\x1fUNLIMITED\x1f0\x1f/tmp/sl/a very long directory name with spaces and | pipes and more more more more/out-%j.txt\x1fn|a,m e',
  '1\x1fCOMPLETED\x1fNone\x1fvm\x1f0:01\x1f365-00:00:00\x1f0\x1f/tmp/sl/slurm-1.out\x1ftest',
  '4\x1fFAILED\x1fNonZeroExitCode\x1fvm\x1f0:00\x1f365-00:00:00\x1f768\x1f/tmp/sl/slurm-4.out\x1ffailer',
  '8\x1fFAILED\x1fBadConstraints\x1f\x1f0:00\x1fUNLIMITED\x1f1\x1f/tmp/sl/slurm-8.out\x1fwrap',
  '11\x1fPENDING\x1fJobHeldUser\x1f\x1f0:00\x1fUNLIMITED\x1f0\x1f/tmp/sl/slurm-11.out\x1fheld job',
  '12\x1fRUNNING\x1fNone\x1fvm\x1f0:00\x1f365-00:00:00\x1f0\x1f/tmp/sl/slurm-12.out\x1frunning1',
  '5\x1fTIMEOUT\x1fTimeLimit\x1fvm\x1f1:25\x1f1:00\x1f15\x1f/tmp/sl/slurm-5.out\x1ftl',
  ''
].join('\n');

// `scontrol show job -o ID`, captured.
const SCONTROL_FAILED =
  'JobId=4 JobName=failer UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901757 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:00 TimeLimit=365-00:00:00 TimeMin=N/A SubmitTime=2026-11-29T19:28:58 EligibleTime=2026-11-29T19:28:58 AccrueTime=2026-11-29T19:28:58 StartTime=2026-11-29T19:28:59 EndTime=2026-11-29T19:28:59 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-29T19:28:59 Scheduler=Backfill Partition=debug AllocNode:Sid=localhost:948 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=1G,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryCPU=1G MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/sl StdErr=/tmp/sl/slurm-4.out StdIn=/dev/null StdOut=/tmp/sl/slurm-4.out Power= \n';
const SCONTROL_TIMEOUT =
  'JobId=5 JobName=tl UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901756 Nice=0 Account=(null) QOS=(null) JobState=TIMEOUT Reason=TimeLimit Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15 RunTime=00:01:25 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-11-29T19:28:58 EligibleTime=2026-11-29T19:28:58 AccrueTime=2026-11-29T19:28:58 StartTime=2026-11-29T19:28:59 EndTime=2026-11-29T19:30:24 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-29T19:28:59 Scheduler=Backfill Partition=debug AllocNode:Sid=localhost:948 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=1G,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryCPU=1G MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/sl StdErr=/tmp/sl/slurm-5.out StdIn=/dev/null StdOut=/tmp/sl/slurm-5.out Power= \n';
const SCONTROL_CANCELLED_HELD =
  'JobId=10 JobName=n|a,m e UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=0 Nice=0 Account=(null) QOS=(null) JobState=CANCELLED Reason=JobHeldUser Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-29T19:31:37 EligibleTime=Unknown AccrueTime=Unknown StartTime=2026-11-29T19:31:40 EndTime=2026-11-29T19:31:40 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-29T19:31:37 Scheduler=Main Partition=debug AllocNode:Sid=localhost:948 ReqNodeList=(null) ExcNodeList=(null) NodeList= NumNodes=1 NumCPUs=1 NumTasks=N/A CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=1G,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryCPU=1G MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/sl StdErr=/tmp/sl/a very long directory name with spaces and | pipes and more more more more/out-10.txt StdIn=/dev/null StdOut=/tmp/sl/a very long directory name with spaces and | pipes and more more more more/out-10.txt Power= \n';
const SCONTROL_PENDING =
  'JobId=11 JobName=held job UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=0 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=JobHeldUser Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-29T19:33:36 EligibleTime=Unknown AccrueTime=Unknown StartTime=Unknown EndTime=Unknown Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-29T19:33:36 Scheduler=Main Partition=debug AllocNode:Sid=localhost:948 ReqNodeList=(null) ExcNodeList=(null) NodeList= NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=1G,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryCPU=1G MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/sl StdErr=/tmp/sl/slurm-11.out StdIn=/dev/null StdOut=/tmp/sl/slurm-11.out Power= \n';

describe('Slurm output parsing', () => {
  it('reads squeue lines: states, reasons, exit status of ended jobs, names with separators', () => {
    const jobs = new Map(parseSqueueLines(SQUEUE_OUTPUT).map(j => [j.id, j]));
    expect(jobs.size).toBe(8);
    expect(jobs.get('1')).toEqual({
      id: '1',
      name: 'test',
      state: 'COMPLETED',
      rawState: 'COMPLETED',
      nodes: 'vm',
      elapsed: '0:01',
      timeLimit: '365-00:00:00',
      exitCode: 0,
      signal: 0,
      stdout: '/tmp/sl/slurm-1.out'
    });
    // exit_code is a wait status: 768 is exit 3, 15 is SIGTERM.
    expect(jobs.get('4')).toMatchObject({ state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 3, signal: 0 });
    expect(jobs.get('3')).toMatchObject({ state: 'CANCELLED', exitCode: 0, signal: 15 });
    expect(jobs.get('5')).toMatchObject({ state: 'TIMEOUT', reason: 'TimeLimit', timeLimit: '1:00' });
    const held = jobs.get('11');
    expect(held).toMatchObject({ name: 'held job', state: 'PENDING', reason: 'JobHeldUser' });
    expect(held?.nodes).toBeUndefined();
    expect(held?.exitCode).toBeUndefined(); // not ended: squeue's 0 means nothing yet
    expect(jobs.get('12')).toMatchObject({ state: 'RUNNING', nodes: 'vm' });
    expect(jobs.get('12')?.reason).toBeUndefined();
    // A pending job's path is printed unexpanded: left out rather than wrong.
    expect(jobs.get('10')).toMatchObject({ name: 'n|a,m e', state: 'CANCELLED' });
    expect(jobs.get('10')?.stdout).toBeUndefined();
  });

  it('skips lines that are not jobs and asks squeue for the fields it reads', () => {
    expect(parseSqueueLines('')).toEqual([]);
    expect(parseSqueueLines('slurm_load_jobs error: Invalid job id specified\n')).toEqual([]);
    expect(SQUEUE_FORMAT.split(',')).toHaveLength(9);
    expect(SQUEUE_FORMAT.endsWith('Name:')).toBe(true);
  });

  it('reads scontrol show job -o, values with spaces included', () => {
    expect(parseScontrolJob(SCONTROL_FAILED)).toEqual({
      id: '4',
      name: 'failer',
      state: 'FAILED',
      rawState: 'FAILED',
      reason: 'NonZeroExitCode',
      nodes: 'vm',
      elapsed: '00:00:00',
      timeLimit: '365-00:00:00',
      exitCode: 3,
      signal: 0,
      stdout: '/tmp/sl/slurm-4.out',
      stderr: '/tmp/sl/slurm-4.out'
    });
    expect(parseScontrolJob(SCONTROL_TIMEOUT)).toMatchObject({ state: 'TIMEOUT', exitCode: 0, signal: 15 });
    const cancelled = parseScontrolJob(SCONTROL_CANCELLED_HELD);
    expect(cancelled).toMatchObject({ id: '10', name: 'n|a,m e', state: 'CANCELLED', reason: 'JobHeldUser' });
    expect(cancelled?.nodes).toBeUndefined();
    expect(cancelled?.stdout).toBe(
      '/tmp/sl/a very long directory name with spaces and | pipes and more more more more/out-10.txt'
    );
    const pending = parseScontrolJob(SCONTROL_PENDING);
    expect(pending).toMatchObject({ name: 'held job', state: 'PENDING', reason: 'JobHeldUser' });
    expect(pending?.exitCode).toBeUndefined();
    expect(parseScontrolJob('slurm_load_jobs error: Invalid job id specified')).toBeUndefined();
  });

  it('keeps a job name that looks like more fields whole', () => {
    const line = SCONTROL_PENDING.replace('JobName=held job', 'JobName=a JobState=RUNNING b');
    expect(parseScontrolJob(line)).toMatchObject({ name: 'a JobState=RUNNING b', state: 'PENDING' });
    expect(parseScontrolFields(SCONTROL_FAILED).get('ReqB:S:C:T')).toBe('0:0:*:*');
    expect(parseScontrolFields(SCONTROL_FAILED).get('TRES')).toBe('cpu=1,mem=1G,node=1,billing=1');
  });

  it('reads the job id from sbatch --parsable, with or without a cluster', () => {
    expect(parseSbatchOutput('17\n')).toBe('17');
    expect(parseSbatchOutput('17;meow\n')).toBe('17');
    expect(parseSbatchOutput('sbatch: warning: something\n18\n')).toBe('18');
    expect(parseSbatchOutput('')).toBeUndefined();
    expect(parseSbatchOutput('Submitted batch job 19\n')).toBeUndefined();
  });

  it('reduces state text to the base word', () => {
    expect(parseSlurmState('CANCELLED by 0')).toEqual({ state: 'CANCELLED', rawState: 'CANCELLED by 0' });
    expect(parseSlurmState('COMPLETING+').state).toBe('COMPLETING');
    expect(parseSlurmState('running').state).toBe('RUNNING');
    expect(parseSlurmState('SOMETHING_NEW')).toEqual({ state: 'UNKNOWN', rawState: 'SOMETHING_NEW' });
  });

  it('knows which states are final and says what they mean', () => {
    const final = SLURM_STATES.filter(isFinalSlurmState);
    expect(final.sort()).toEqual(
      [
        'BOOT_FAIL',
        'CANCELLED',
        'COMPLETED',
        'DEADLINE',
        'FAILED',
        'NODE_FAIL',
        'OUT_OF_MEMORY',
        'PREEMPTED',
        'REVOKED',
        'TIMEOUT'
      ].sort()
    );
    for (const s of ['PENDING', 'RUNNING', 'COMPLETING', 'CONFIGURING', 'SUSPENDED', 'REQUEUED', 'UNKNOWN'] as const) {
      expect(isFinalSlurmState(s)).toBe(false);
    }
    expect(slurmStateMeaning('TIMEOUT')).toBe('exceeded its Slurm time limit');
    expect(slurmStateMeaning('NODE_FAIL')).toBe('its node failed');
    expect(slurmStateMeaning('OUT_OF_MEMORY')).toBe('ran out of the memory it asked for');
    for (const s of final) {
      expect(slurmStateMeaning(s)).toMatch(/\w/);
      expect(slurmStateMeaning(s)).not.toMatch(/\n/);
    }
  });
});

describe('sbatchDirectives', () => {
  it('writes each resource as Slurm units, rounded up', () => {
    expect(
      sbatchDirectives({
        cpus: 2,
        memoryBytes: 1.5 * 1024 * 1024 * 1024 + 1,
        gpus: 1,
        timeLimitMs: 90 * 60 * 1000 + 1,
        partition: 'debug',
        extraArgs: ['--account=lab', '--qos=short']
      })
    ).toEqual([
      '#SBATCH --cpus-per-task=2',
      '#SBATCH --mem=1537M',
      '#SBATCH --gres=gpu:1',
      '#SBATCH --time=0-01:31:00',
      '#SBATCH --partition=debug',
      '#SBATCH --account=lab',
      '#SBATCH --qos=short'
    ]);
    expect(sbatchDirectives({})).toEqual([]);
    expect(sbatchDirectives({ timeLimitMs: 1 })).toEqual(['#SBATCH --time=0-00:01:00']);
    expect(sbatchDirectives({ timeLimitMs: (2 * 1440 + 3 * 60 + 4) * 60000 })).toEqual(['#SBATCH --time=2-03:04:00']);
    expect(sbatchDirectives({ memoryBytes: 1 })).toEqual(['#SBATCH --mem=1M']);
  });

  it('refuses line breaks, naming the field, and values that are not positive', () => {
    expect(() => sbatchDirectives({ partition: 'debug\n#SBATCH --x' })).toThrow(/partition/);
    expect(() => sbatchDirectives({ extraArgs: ['--ok', '--qos=a\rb'] })).toThrow(/extraArgs\[1\]/);
    expect(() => sbatchDirectives({ cpus: 0 })).toThrow(/cpus/);
    expect(() => sbatchDirectives({ memoryBytes: NaN })).toThrow(/memoryBytes/);
  });
});

// --- fake commands ----------------------------------------------------------

/**
 * A fake sbatch: appends `<ms> <args>` to calls, records each job it
 * submits in jobs (`id name`) and prints `id;meow`; `behaviour` runs first,
 * with $n the call number and $name the job name.
 */
async function fakeCommands(dir: string, behaviour = ''): Promise<SlurmCommands.ICommands> {
  const sbatch = path.join(dir, 'sbatch');
  await fs.writeFile(
    sbatch,
    `#!/bin/bash
exec 9>"${dir}/lock"; flock 9
n=$(( $(cat "${dir}/count" 2>/dev/null || echo 0) + 1 )); echo $n > "${dir}/count"
echo "$(date +%s%3N) $*" >> "${dir}/calls"
name=; for a in "$@"; do case $a in --job-name=*) name=\${a#--job-name=};; esac; done
flock -u 9
id=$((100 + n))
submit() { echo "$id $name" >> "${dir}/jobs"; }
${behaviour}
submit
echo "$id;meow"
`
  );
  // squeue as the client calls it: --name filters, -O output with \\x1f.
  const squeue = path.join(dir, 'squeue');
  await fs.writeFile(
    squeue,
    `#!/bin/bash
echo "$*" >> "${dir}/squeue-calls"
if [ -f "${dir}/squeue-error" ]; then cat "${dir}/squeue-error" >&2; exit 1; fi
name=; for a in "$@"; do case $a in --name=*) name=\${a#--name=};; esac; done
[ -f "${dir}/jobs" ] || exit 0
while read -r id n; do
  if [ -z "$name" ] || [ "$n" = "$name" ]; then
    printf '%s\\037PENDING\\037None\\037\\0370:00\\037UNLIMITED\\0370\\037/tmp/x\\037%s\\n' "$id" "$n"
  fi
done < "${dir}/jobs"
`
  );
  const scancel = path.join(dir, 'scancel');
  await fs.writeFile(
    scancel,
    `#!/bin/bash
echo "scancel: error: Kill job error on job id $1: Job/step already completing or completed" >&2; exit 1
`
  );
  const scontrol = path.join(dir, 'scontrol');
  await fs.writeFile(
    scontrol,
    `#!/bin/bash
echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1
`
  );
  for (const f of [sbatch, squeue, scancel, scontrol]) {
    await fs.chmod(f, 0o755);
  }
  return { sbatch, squeue, scancel, scontrol };
}

async function lines(file: string): Promise<string[]> {
  try {
    return (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('SlurmCommands with fake commands', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meow-slurm-fake-'));
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('submits with --parsable, the name, the working directory and extra args', async () => {
    const slurm = new SlurmCommands({ ...(await fakeCommands(dir)) });
    const id = await slurm.submit('job.sh', { name: 'meow-a', cwd: dir, args: ['--hold'] });
    expect(id).toBe('101');
    const [call] = await lines(path.join(dir, 'calls'));
    expect(call.split(' ').slice(1)).toEqual([
      '--parsable',
      '--job-name=meow-a',
      `--chdir=${dir}`,
      '--hold',
      path.join(dir, 'job.sh')
    ]);
  });

  it('spaces concurrent submissions by submitPerSecond, in call order', async () => {
    const slurm = new SlurmCommands({ ...(await fakeCommands(dir)), submitPerSecond: 10 });
    const names = ['j0', 'j1', 'j2', 'j3', 'j4', 'j5'];
    const ids = await Promise.all(names.map(name => slurm.submit('s.sh', { name, cwd: dir })));
    expect(new Set(ids).size).toBe(6);
    const calls = (await lines(path.join(dir, 'calls'))).map(l => {
      const [ms, ...args] = l.split(' ');
      return { ms: Number(ms), name: args[1].replace('--job-name=', '') };
    });
    expect(calls.map(c => c.name)).toEqual(names);
    // 100 ms apart, less what process start-up jitter takes off one gap.
    for (let i = 1; i < calls.length; i++) {
      expect(calls[i].ms - calls[i - 1].ms).toBeGreaterThanOrEqual(60);
    }
    expect(calls[5].ms - calls[0].ms).toBeGreaterThanOrEqual(450);
  });

  it('retries a transient failure with backoff', async () => {
    const log = new RecordingLogger();
    const commands = await fakeCommands(
      dir,
      `if [ $n -le 2 ]; then echo "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation" >&2; exit 1; fi`
    );
    const slurm = new SlurmCommands({ ...commands, backoffMs: 50, log });
    const started = Date.now();
    expect(await slurm.submit('s.sh', { name: 'flaky', cwd: dir })).toBe('103');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150); // 50 + 100
    expect(await lines(path.join(dir, 'calls'))).toHaveLength(3);
    // It looked the name up before each retry.
    expect((await lines(path.join(dir, 'squeue-calls'))).filter(l => l.includes('--name=flaky'))).toHaveLength(2);
    expect(log.text('warn')).toMatch(/Socket timed out/);
  });

  it('finds a job a timed-out sbatch submitted instead of submitting it twice', async () => {
    // The first call submits, then hangs past the timeout.
    const commands = await fakeCommands(dir, `if [ $n -eq 1 ]; then submit; sleep 5 >/dev/null 2>&1; fi`);
    const slurm = new SlurmCommands({ ...commands, timeoutMs: 400, backoffMs: 50 });
    expect(await slurm.submit('s.sh', { name: 'slow', cwd: dir })).toBe('101');
    expect(await lines(path.join(dir, 'calls'))).toHaveLength(1);
    expect(await lines(path.join(dir, 'jobs'))).toEqual(['101 slow']);
  });

  it('does not submit again while it cannot tell whether the job exists', async () => {
    const commands = await fakeCommands(dir, `if [ $n -eq 1 ]; then exit 1; fi`);
    await fs.writeFile(
      path.join(dir, 'squeue-error'),
      'squeue: error: Unable to contact slurm controller (connect failure)\n'
    );
    const slurm = new SlurmCommands({ ...commands, backoffMs: 20, retries: 3 });
    await expect(slurm.submit('s.sh', { name: 'blind', cwd: dir })).rejects.toThrow(
      /Unable to contact slurm controller/
    );
    expect(await lines(path.join(dir, 'calls'))).toHaveLength(1);
    expect(await lines(path.join(dir, 'squeue-calls'))).toHaveLength(3);
  });

  it('fails at once, with sbatch own words, when retrying cannot help', async () => {
    const commands = await fakeCommands(
      dir,
      `echo "sbatch: error: invalid partition specified: nopart" >&2
echo "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2; exit 1`
    );
    const slurm = new SlurmCommands({ ...commands, backoffMs: 20 });
    const err = await slurm.submit('s.sh', { name: 'bad', cwd: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlurmCommandError);
    expect((err as SlurmCommandError).message).toBe(
      'sbatch: error: invalid partition specified: nopart; sbatch: error: Batch job submission failed: Invalid partition name specified'
    );
    expect(await lines(path.join(dir, 'calls'))).toHaveLength(1);
    expect(await lines(path.join(dir, 'squeue-calls'))).toHaveLength(0);
  });

  it('gives up after the retries with the last error', async () => {
    const commands = await fakeCommands(
      dir,
      `echo "sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying" >&2; exit 1`
    );
    const slurm = new SlurmCommands({ ...commands, backoffMs: 10, retries: 2 });
    await expect(slurm.submit('s.sh', { name: 'never', cwd: dir })).rejects.toThrow(/temporarily unable/);
    expect(await lines(path.join(dir, 'calls'))).toHaveLength(3);
  });

  it('refuses job names that would break the command line or the lookup', async () => {
    const slurm = new SlurmCommands({ ...(await fakeCommands(dir)) });
    await expect(slurm.submit('s.sh', { name: 'a\nb', cwd: dir })).rejects.toThrow(/one line/);
    await expect(slurm.submit('s.sh', { name: '', cwd: dir })).rejects.toThrow(/non-empty/);
    await expect(slurm.states(['1', '-x'])).rejects.toThrow(/not a Slurm job id/);
  });

  it('findByName picks the newest job with exactly that name', async () => {
    const commands = await fakeCommands(dir);
    await fs.writeFile(path.join(dir, 'jobs'), '9 twice\n10 twice\n11 twice-not\n');
    const slurm = new SlurmCommands(commands);
    expect((await slurm.findByName('twice'))?.id).toBe('10');
    expect(await slurm.findByName('nobody')).toBeUndefined();
    // A comma would split squeue's --name list: it is matched here instead.
    await fs.appendFile(path.join(dir, 'jobs'), '12 a,b\n');
    expect((await slurm.findByName('a,b'))?.id).toBe('12');
    expect((await lines(path.join(dir, 'squeue-calls'))).pop()).not.toMatch(/--name/);
  });

  it('states: one squeue call for all ids; unknown ids are absent, not an error', async () => {
    const commands = await fakeCommands(dir);
    await fs.writeFile(path.join(dir, 'jobs'), '5 a\n6 b\n');
    const slurm = new SlurmCommands(commands);
    const states = await slurm.states(['5', '6', '7', '5']);
    expect([...states.keys()].sort()).toEqual(['5', '6']);
    const calls = await lines(path.join(dir, 'squeue-calls'));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/--jobs=5,6,7 /);
    expect(await slurm.states([])).toEqual(new Map());
    await fs.writeFile(path.join(dir, 'squeue-error'), 'slurm_load_jobs error: Invalid job id specified\n');
    expect(await slurm.states(['7'])).toEqual(new Map());
    await fs.writeFile(path.join(dir, 'squeue-error'), 'squeue: error: Unable to contact slurm controller\n');
    await expect(slurm.states(['7'])).rejects.toThrow(/Unable to contact/);
  });

  it('cancel of a finished job and detail of an unknown one are not errors', async () => {
    const slurm = new SlurmCommands(await fakeCommands(dir));
    await expect(slurm.cancel('5')).resolves.toBeUndefined();
    await expect(slurm.detail('5')).resolves.toBeUndefined();
  });

  it('available() names the missing command and the fix', async () => {
    const slurm = new SlurmCommands({ sbatch: path.join(dir, 'no-sbatch'), squeue: path.join(dir, 'no-squeue') });
    const result = await slurm.available();
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message).toContain('no-sbatch');
      expect(result.message).toContain('apt-get install slurm-client');
      expect(result.message).toContain('make slurm');
      expect(result.message).toContain('executor: local');
    }
    const commands = await fakeCommands(dir);
    await fs.writeFile(commands.sbatch, '#!/bin/bash\necho "slurm-wlm 22.05.8"\n');
    await fs.writeFile(
      path.join(dir, 'squeue-error'),
      'squeue: error: Unable to contact slurm controller (connect failure)\n'
    );
    const down = await new SlurmCommands(commands).available();
    expect(down.ok).toBe(false);
    if (!down.ok) {
      expect(down.message).toMatch(/Unable to contact slurm controller/);
    }
    await fs.rm(path.join(dir, 'squeue-error'));
    expect(await new SlurmCommands(commands).available()).toEqual({ ok: true, version: 'slurm-wlm 22.05.8' });
  });

  it('a command that hangs times out', async () => {
    const commands = await fakeCommands(dir);
    await fs.writeFile(commands.squeue, '#!/bin/bash\nsleep 5 >/dev/null 2>&1\n');
    const slurm = new SlurmCommands({ ...commands, timeoutMs: 300 });
    const started = Date.now();
    const err = await slurm.states(['1']).catch((e: unknown) => e);
    expect((err as SlurmCommandError).timedOut).toBe(true);
    expect((err as Error).message).toMatch(/did not answer within 0.3 s/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
