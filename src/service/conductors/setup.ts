/**
 * The hidden setup request run in a Python kernel before a job's first cell.
 *
 * It makes the workgroup the working directory (and importable), and
 * installs an audit hook (PEP 578) that appends every path the job opens
 * for writing to the writes log, one absolute path a line, as it happens:
 * the service reads that log while the job runs to link child jobs to this
 * parent (spec §7).
 *
 * Recorded: `open` (builtin open, io/os.open, pathlib) with a write, append,
 * create or update mode or flags; destinations of `os.rename`/`os.replace`,
 * `shutil.copyfile` (hence shutil.copy/copy2/move across devices),
 * `shutil.copytree`, `os.link`, `os.symlink`; `os.truncate`.
 * Not recorded: writes done by subprocesses or by C libraries that bypass
 * Python's I/O (e.g. HDF5 via h5py).
 */

/**
 * Python code for `execute_request` with `silent: true`.
 *
 * With `guardStopPath` (cells sent back to back, see the conductor's
 * `pipelineCells`) it first installs a guard in IPython: a cell is replaced
 * by `pass` when the setup did not finish, when an earlier cell failed
 * (raised, or was interrupted), or when the file `guardStopPath` exists
 * (the job timed out or was cancelled): a cell queued behind a failing one
 * never runs, exactly as when cells were sent one at a time.
 */
export function pythonSetupCode(cwd: string, writesLogPath: string, guardStopPath?: string): string {
  const lit = (s: string) => JSON.stringify(s);
  const guard =
    guardStopPath === undefined
      ? ''
      : `
def __meow_guard__(stop_path):
    import os
    ip = get_ipython()
    state = {"blocked": True}
    exists = os.path.exists

    def guard(lines):
        if state["blocked"] or exists(stop_path):
            state["blocked"] = True
            return ["pass\\n"]
        return lines

    def after(result):
        if not result.success:
            state["blocked"] = True

    ip.input_transformers_post.append(guard)
    ip.events.register("post_run_cell", after)
    return state

__meow_state__ = __meow_guard__(${lit(guardStopPath)})
del __meow_guard__
`;
  const unblock = guardStopPath === undefined ? '' : `__meow_state__["blocked"] = False\ndel __meow_state__\n`;
  return `${guard}
def __meow_setup__(cwd, log_path):
    import os, sys, threading, tempfile
    os.chdir(cwd)
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    log_path = os.path.abspath(log_path)
    sep = os.sep
    ignore = [sep + 'proc' + sep, sep + 'dev' + sep, sep + 'sys' + sep]
    try:
        from jupyter_core.paths import jupyter_runtime_dir
        ignore.append(os.path.join(os.path.abspath(jupyter_runtime_dir()), ''))
    except Exception:
        pass
    try:
        from IPython import get_ipython
        ignore.append(os.path.join(os.path.abspath(get_ipython().ipython_dir), ''))
    except Exception:
        pass
    ignore.append(os.path.join(os.path.abspath(tempfile.gettempdir()), 'ipykernel_'))
    ignore = tuple(ignore)
    pycache = sep + '__pycache__' + sep
    events = frozenset(['open', 'os.rename', 'shutil.copyfile', 'shutil.copytree',
                        'os.link', 'os.symlink', 'os.truncate'])
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    seen = set()
    lock = threading.RLock()
    local = threading.local()
    log = open(log_path, 'a', buffering=1, encoding='utf-8', errors='surrogateescape')
    fspath, fsdecode, abspath, isabs = os.fspath, os.fsdecode, os.path.abspath, os.path.isabs

    def record(p, dir_fd=None):
        if p is None or isinstance(p, int):
            return
        p = fsdecode(fspath(p))
        if dir_fd is not None and dir_fd >= 0 and not isabs(p):
            return
        p = abspath(p)
        if p in seen or p == log_path or '\\n' in p or p.startswith(ignore) or pycache in p:
            return
        seen.add(p)
        log.write(p + '\\n')

    def hook(event, args):
        if event not in events or getattr(local, 'busy', False):
            return
        local.busy = True
        try:
            with lock:
                if event == 'open':
                    p, mode, flags = args[0], args[1], args[2]
                    writing = isinstance(mode, str) and any(c in mode for c in 'wax+')
                    if not writing and isinstance(flags, int) and flags & write_flags:
                        writing = True
                    if writing:
                        record(p)
                elif event in ('os.rename', 'os.link'):
                    record(args[1], args[3] if len(args) > 3 else None)
                elif event == 'os.symlink':
                    record(args[1], args[2] if len(args) > 2 else None)
                elif event in ('shutil.copyfile', 'shutil.copytree'):
                    record(args[1])
                elif event == 'os.truncate':
                    record(args[0])
        except Exception:
            pass
        finally:
            local.busy = False

    sys.addaudithook(hook)

__meow_setup__(${lit(cwd)}, ${lit(writesLogPath)})
del __meow_setup__
${unblock}`;
}
