#!/usr/bin/env python3
"""Simulate a meow workgroup without meow, to derive and check expected results.

This is a small, sequential re-implementation of the workflow semantics that
meow promises (spec §2–§4), good enough to predict what a run of an example
must produce:

* patterns are read from ``.meow/patterns/*.yaml`` (native or thesis format),
  recipes from ``.meow/recipes/*.ipynb``;
* files that exist when the simulation starts are treated as just created
  (retroactive matching, M10);
* every file a job creates or writes to is one event (``created`` if it did not
  exist before the job, ``modified`` otherwise — writing identical content is a
  modification too); each event schedules one job per matching pattern, or one
  per combination of a pattern's sweep;
* a job parameterises the recipe the way meow does (the first top-level
  ``name = ...`` line of each variable is rewritten, keywords such as
  ``{VGRID}`` and ``{FILENAME}`` are substituted) and runs its code cells with
  the workgroup root as working directory; an exception fails the job and
  nothing else;
* a pattern file written into ``.meow/patterns/`` by a job is loaded at once
  and matched against the files that already exist (self-modifying workflows).

The recipes really run, so the results come from the same code meow executes.
Jobs run one at a time but in a configurable order; running the workflow in
several orders (first-in-first-out, last-in-first-out, shuffled) and getting
the same results shows that they do not depend on scheduling or on how many
workers run jobs side by side.

Usage (from the repository root, with the project's Python, which has PyYAML):

    .venv/bin/python examples/abstract/simulate.py            # check expected.json
    .venv/bin/python examples/abstract/simulate.py --write    # regenerate it
    .venv/bin/python examples/abstract/simulate.py --show     # print the jobs

``--workgroup DIR`` simulates another example (``--write``/check then only
applies to this example's ``expected.json`` when DIR is this folder), and
``--engine nbconvert`` executes every job's notebook on a real ``python3``
kernel through ``jupyter nbconvert`` instead of ``exec`` (slower; needs
Jupyter). The example folder itself is never modified: the simulation runs in
a temporary copy.
"""

import argparse
import contextlib
import io
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
STATE = '.meow'
PATTERNS = STATE + '/patterns'
RECIPES = STATE + '/recipes'
DEFAULT_EVENTS = ['created', 'modified']
# Directories of the abstract example whose files are listed in expected.json.
REPORTED_DIRS = ['final', 'add_to_div']
ORDERS = ['fifo', 'lifo'] + ['random:%d' % seed for seed in range(1, 6)]


# --------------------------------------------------------------------------
# Definitions


def load_pattern(path):
    """Read one pattern file into a uniform dict (native or thesis format)."""
    with open(path) as f:
        raw = yaml.safe_load(f) or {}
    name = os.path.splitext(os.path.basename(path))[0]
    if 'input_paths' in raw or 'recipes' in raw:  # thesis (mig_meow) format
        sweep = {
            var: {'start': r['start'], 'stop': r['stop'],
                  'step': r.get('increment', r.get('step', 1))}
            for var, r in (raw.get('parameterize_over') or {}).items()
        }
        return {
            'name': name,
            'recipe': raw['recipes'][0],
            'glob': raw['input_paths'][0],
            'events': DEFAULT_EVENTS,
            'input': raw.get('input_file'),
            'parameters': raw.get('variables') or {},
            'outputs': raw.get('output') or {},
            'sweep': sweep,
        }
    trigger = raw['trigger']
    return {
        'name': name,
        'recipe': raw['recipe'],
        'glob': trigger['path'],
        'events': trigger.get('events') or DEFAULT_EVENTS,
        'input': raw.get('input'),
        'parameters': raw.get('parameters') or {},
        'outputs': raw.get('outputs') or {},
        'sweep': raw.get('sweep') or {},
    }


def load_recipe(path):
    with open(path) as f:
        return json.load(f)


def glob_regex(glob):
    """`*` and `?` stay inside one path segment, `**` crosses segments."""
    out, i = '', 0
    while i < len(glob):
        if glob.startswith('**/', i):
            out, i = out + '(?:.*/)?', i + 3
        elif glob.startswith('**', i):
            out, i = out + '.*', i + 2
        elif glob[i] == '*':
            out, i = out + '[^/]*', i + 1
        elif glob[i] == '?':
            out, i = out + '[^/]', i + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return re.compile(out + r'\Z')


def sweep_values(spec):
    values, value = [], spec['start']
    while (spec['step'] > 0 and value <= spec['stop']) or \
          (spec['step'] < 0 and value >= spec['stop']):
        values.append(value)
        value += spec['step']
    return values


# --------------------------------------------------------------------------
# Parameterising (spec §3 keywords, §4 rewriting)


def keywords(root, rel_path, job_id):
    directory, filename = os.path.split(rel_path)
    prefix, extension = os.path.splitext(filename)
    return {
        'PATH': os.path.join(root, rel_path),
        'VGRID': root,
        'BASE': root,
        'REL_PATH': rel_path,
        'DIR': os.path.join(root, directory) if directory else root,
        'REL_DIR': directory,
        'FILENAME': filename,
        'PREFIX': prefix,
        'EXTENSION': extension,
        'JOB': job_id,
    }


def substitute(value, words):
    if isinstance(value, str):
        for key, replacement in words.items():
            value = value.replace('{%s}' % key, replacement)
        return value
    if isinstance(value, list):
        return [substitute(v, words) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, words) for k, v in value.items()}
    return value


def parameterise(notebook, variables):
    """Return a copy whose first `name = ...` line per variable is rewritten."""
    nb = json.loads(json.dumps(notebook))
    missing = dict(variables)
    for cell in nb['cells']:
        if cell['cell_type'] != 'code':
            continue
        source = cell['source']
        lines = ''.join(source if isinstance(source, list) else [source])
        lines = lines.split('\n')
        for n, line in enumerate(lines):
            m = re.match(r'([A-Za-z_]\w*)\s*=(?!=)', line)
            if m and m.group(1) in missing:
                lines[n] = '%s = %r' % (m.group(1), missing.pop(m.group(1)))
        cell['source'] = '\n'.join(lines)
    if missing:
        inject = '\n'.join('%s = %r' % item for item in missing.items())
        nb['cells'].insert(0, {'cell_type': 'code', 'metadata': {},
                               'source': inject, 'outputs': [],
                               'execution_count': None, 'id': 'injected'})
    return nb


# --------------------------------------------------------------------------
# Running


def snapshot(root):
    """Every data and state file: relative path -> (mtime_ns, size)."""
    files = {}
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != 'jobs' or
                   os.path.relpath(directory, root) != STATE]
        for name in names:
            path = os.path.join(directory, name)
            st = os.stat(path)
            rel = os.path.relpath(path, root).replace(os.sep, '/')
            files[rel] = (st.st_mtime_ns, st.st_size)
    return files


def run_exec(nb, root):
    """Run the code cells in this process. Returns (ok, error, stdout)."""
    namespace = {'__name__': '__main__'}
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out):
            for cell in nb['cells']:
                if cell['cell_type'] == 'code':
                    exec(compile(cell['source'], '<recipe>', 'exec'), namespace)
        return True, None, out.getvalue()
    except Exception as exc:  # a failing recipe fails its job, nothing more
        return False, '%s: %s' % (type(exc).__name__, exc), out.getvalue()
    finally:
        os.chdir(cwd)


def run_nbconvert(nb, root, job_dir):
    """Run the notebook on a real python3 kernel via jupyter nbconvert."""
    os.makedirs(job_dir, exist_ok=True)
    source = os.path.join(job_dir, 'job.ipynb')
    with open(source, 'w') as f:
        json.dump(nb, f)
    jupyter = os.path.join(os.path.dirname(sys.executable), 'jupyter')
    proc = subprocess.run(
        [jupyter if os.path.exists(jupyter) else 'jupyter', 'nbconvert',
         '--to', 'notebook', '--execute', '--output', 'result.ipynb', source],
        cwd=root, capture_output=True, text=True)
    stdout = ''
    result = os.path.join(job_dir, 'result.ipynb')
    if os.path.exists(result):
        with open(result) as f:
            for cell in json.load(f)['cells']:
                for output in cell.get('outputs', []):
                    if output.get('name') == 'stdout':
                        stdout += ''.join(output['text'])
    if proc.returncode != 0:
        errors = re.findall(r'^(\w+(?:Error|Exception)\b.*)$', proc.stderr, re.M)
        return False, errors[-1] if errors else proc.stderr.strip()[-300:], stdout
    return True, None, stdout


class Simulation:
    def __init__(self, root, order='fifo', engine='exec'):
        self.root = root
        self.order = order
        self.rng = random.Random(int(order.split(':')[1])) \
            if order.startswith('random') else None
        self.engine = engine
        self.patterns = {}
        self.recipes = {}
        self.queue = []
        self.jobs = []
        self.writes = {}  # relative path -> number of times written by jobs
        for name in sorted(os.listdir(os.path.join(root, RECIPES))):
            if name.endswith('.ipynb'):
                self.recipes[name[:-6]] = load_recipe(
                    os.path.join(root, RECIPES, name))
        for name in sorted(os.listdir(os.path.join(root, PATTERNS))):
            if name.endswith(('.yaml', '.yml')):
                self.add_pattern(os.path.join(PATTERNS, name), retroactive=False)
        # M10: existing files are treated as just created, once per rule.
        for rel in sorted(snapshot(root)):
            if not rel.startswith(STATE + '/'):
                self.event('created', rel, cause=None)

    def add_pattern(self, rel, retroactive=True):
        pattern = load_pattern(os.path.join(self.root, rel))
        pattern['regex'] = glob_regex(pattern['glob'])
        self.patterns[pattern['name']] = pattern
        if retroactive:
            for path in sorted(snapshot(self.root)):
                if not path.startswith(STATE + '/'):
                    self.schedule(pattern, 'created', path, cause=None)

    def event(self, kind, rel, cause):
        if rel.startswith(PATTERNS + '/') and rel.endswith(('.yaml', '.yml')):
            self.add_pattern(rel)  # P5/P7: a new or changed pattern
            return
        if rel.startswith(STATE + '/'):
            return
        for name in sorted(self.patterns):
            self.schedule(self.patterns[name], kind, rel, cause)

    def schedule(self, pattern, kind, rel, cause):
        if kind not in pattern['events'] or not pattern['regex'].match(rel):
            return
        if pattern['recipe'] not in self.recipes:
            return  # no rule without its recipe
        swept = sorted(pattern['sweep'])
        for combination in itertools.product(
                *(sweep_values(pattern['sweep'][v]) for v in swept)):
            self.queue.append({
                'pattern': pattern['name'], 'recipe': pattern['recipe'],
                'trigger': rel, 'event': kind, 'cause': cause,
                'sweep': dict(zip(swept, combination)),
                'definition': pattern,
            })

    def next_job(self):
        if self.order == 'lifo':
            return self.queue.pop()
        if self.rng:
            return self.queue.pop(self.rng.randrange(len(self.queue)))
        return self.queue.pop(0)

    def run(self, limit=1000):
        while self.queue:
            if len(self.jobs) >= limit:
                raise RuntimeError('more than %d jobs: runaway loop?' % limit)
            self.run_job(self.next_job())
        return self

    def run_job(self, job):
        job_id = 'job-%04d' % (len(self.jobs) + 1)
        pattern = job.pop('definition')
        words = keywords(self.root, job['trigger'], job_id)
        variables = {}
        variables.update(substitute(pattern['parameters'], words))
        variables.update(substitute(pattern['outputs'], words))
        variables.update(job['sweep'])
        if pattern['input']:
            variables[pattern['input']] = words['PATH']
        nb = parameterise(self.recipes[job['recipe']], variables)
        before = snapshot(self.root)
        if self.engine == 'nbconvert':
            job_dir = os.path.join(os.path.dirname(self.root), 'jobs', job_id)
            ok, error, stdout = run_nbconvert(nb, self.root, job_dir)
        else:
            ok, error, stdout = run_exec(nb, self.root)
        after = snapshot(self.root)
        written = sorted(p for p in after if before.get(p) != after[p])
        job.update(id=job_id, status='done' if ok else 'failed', error=error,
                   stdout=stdout.strip(), wrote=written)
        self.jobs.append(job)
        for rel in written:
            self.writes[rel] = self.writes.get(rel, 0) + 1
            self.event('modified' if rel in before else 'created', rel, job_id)

    def summary(self):
        per_pattern, failed, failed_triggers = {}, {}, []
        for job in self.jobs:
            per_pattern[job['pattern']] = per_pattern.get(job['pattern'], 0) + 1
            if job['status'] == 'failed':
                failed[job['pattern']] = failed.get(job['pattern'], 0) + 1
                failed_triggers.append('%s %s' % (job['pattern'], job['trigger']))
        for name in self.patterns:
            per_pattern.setdefault(name, 0)
        files = {}
        for rel in sorted(snapshot(self.root)):
            if rel.startswith(STATE + '/'):
                continue
            with open(os.path.join(self.root, rel)) as f:
                files[rel] = f.read()
        return {
            'jobs': {'total': len(self.jobs),
                     'per_pattern': dict(sorted(per_pattern.items()))},
            'failed': {'total': sum(failed.values()),
                       'per_pattern': dict(sorted(failed.items())),
                       'jobs': sorted(failed_triggers)},
            'files_written_more_than_once':
                sorted(p for p, n in self.writes.items() if n > 1),
            'files': files,
        }


def simulate(workgroup, order='fifo', engine='exec', keep=None):
    """Run a copy of `workgroup`; `keep` names a folder to leave it in."""
    with tempfile.TemporaryDirectory(prefix='meow-sim-') as tmp:
        root = os.path.join(keep or tmp, 'workgroup')
        if keep:
            shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(workgroup, root,
                        ignore=shutil.ignore_patterns('simulate.py', 'expected.json',
                                                      'README.md', '__pycache__',
                                                      'jobs'))
        sim = Simulation(root, order, engine).run()
        return sim, sim.summary()


def expected_document(summary):
    """The part of a summary that expected.json records."""
    files = summary['files']
    return {
        'about': 'Expected outcome of examples/abstract, produced by simulate.py '
                 '(run it with --write after changing the example). Data files '
                 'hold json.dumps(values) + "\\n". failed.jobs lists the failing '
                 'jobs as "<pattern> <triggering path>"; data_files lists every '
                 'file outside .meow/ at the end (the example\'s README.md, '
                 'simulate.py and expected.json left out).',
        'jobs': summary['jobs'],
        'failed': summary['failed'],
        'done': {'total': summary['jobs']['total'] - summary['failed']['total']},
        **{d: {p: files[p] for p in files if p.startswith(d + '/')}
           for d in REPORTED_DIRS},
        'data_files': sorted(files),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--workgroup', default=HERE)
    parser.add_argument('--engine', choices=['exec', 'nbconvert'], default='exec')
    parser.add_argument('--write', action='store_true',
                        help='write expected.json instead of checking it')
    parser.add_argument('--show', action='store_true', help='print every job')
    parser.add_argument('--orders', default=','.join(ORDERS),
                        help='job orders to compare (default: %(default)s)')
    parser.add_argument('--keep', metavar='DIR',
                        help='leave the simulated workgroup (and, with nbconvert, '
                             'the job notebooks) in DIR instead of deleting it; '
                             'with several orders, the last one is kept')
    args = parser.parse_args()

    orders = args.orders.split(',')
    results = []
    for order in orders:
        sim, summary = simulate(args.workgroup, order, args.engine, args.keep)
        results.append(summary)
        if args.show:
            print('== order %s' % order)
            for job in sim.jobs:
                sweep = ' '.join('%s=%s' % kv for kv in job['sweep'].items())
                print('%s %-9s %-6s %s%s%s' % (
                    job['id'], job['pattern'], job['status'], job['trigger'],
                    ' [%s]' % sweep if sweep else '',
                    ' <- %s' % job['cause'] if job['cause'] else ''))
                print('         %s' % (job['error'] or job['stdout']))
    for order, summary in zip(orders[1:], results[1:]):
        if summary != results[0]:
            print('results differ between order %s and %s' % (orders[0], order))
            return 1
    summary = results[0]
    print('%d job order(s) agree: %d jobs %s, %d failed %s' % (
        len(orders), summary['jobs']['total'], summary['jobs']['per_pattern'],
        summary['failed']['total'], summary['failed']['per_pattern']))
    if summary['files_written_more_than_once']:
        print('note: written more than once:', summary['files_written_more_than_once'])

    if os.path.abspath(args.workgroup) != HERE:
        for rel, text in summary['files'].items():
            print('--- %s\n%s' % (rel, text.rstrip('\n')))
        return 0
    document = expected_document(summary)
    path = os.path.join(HERE, 'expected.json')
    if args.write:
        with open(path, 'w') as f:
            f.write(json.dumps(document, indent=2) + '\n')
        print('wrote', path)
        return 0
    with open(path) as f:
        recorded = json.load(f)
    if recorded != document:
        print('expected.json is out of date (run with --write):')
        for key in document:
            if recorded.get(key) != document[key]:
                print('  %s: recorded %s, simulated %s' % (
                    key, json.dumps(recorded.get(key)), json.dumps(document[key])))
        return 1
    print('expected.json matches')
    return 0


if __name__ == '__main__':
    sys.exit(main())
