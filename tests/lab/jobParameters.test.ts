/**
 * The job detail's parameters table shows values JSON would change (issue
 * 11.2, 11.3) as the Python the notebook received: `1.0`, `{1: 1, 2: 2}`.
 * The job arrives as the API sends it: JSON, with `typedParameters`.
 */
import * as React from 'react';
import { act } from 'react';
import { createRoot } from 'react-dom/client';

import { PyDict, PyFloat, jsonReplacer } from '../../src/core/pyvalue';
import type { IJob } from '../../src/core/types';
import { typedParameterTexts } from '../../src/service/jobs/jobYaml';
import { JobParameters } from '../../src/lab/widgets/jobDetailParts';
import { makeJob } from './fakes';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

it('shows 1.0 and {1: 1, 2: 2}, not 1 and {"1":1,"2":2}', async () => {
  const parameters = {
    infile: '/w/in/a.txt',
    n: 3,
    o: { a: 1 },
    fl1: new PyFloat(1),
    d: new PyDict([
      [1, 1],
      [2, 2]
    ])
  };
  const sent = makeJob(1, { parameters, typedParameters: typedParameterTexts(parameters) });
  const job = JSON.parse(JSON.stringify(sent, jsonReplacer)) as IJob;
  const host = document.createElement('div');
  const root = createRoot(host);
  await act(async () => root.render(React.createElement(JobParameters, { job })));
  const rows = [...host.querySelectorAll('tr')].map(tr => [
    tr.querySelector('th')!.textContent,
    tr.querySelector('td')!.textContent
  ]);
  expect(rows).toEqual([
    ['infile', '/w/in/a.txt'],
    ['n', '3'],
    ['o', '{"a":1}'],
    ['fl1', '1.0'],
    ['d', '{1: 1, 2: 2}']
  ]);
  await act(async () => root.unmount());
});
