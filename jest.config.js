// Three projects: fast pure/unit tests, integration tests that start a real
// Jupyter server with ipykernel from the project's .venv, and `lab` (below).
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.test.json' }];
// The JupyterLab extension's tests (project `lab`) run in jsdom with
// @jupyterlab/testing's environment, shims and resolver.
const jlab = require('@jupyterlab/testing/lib/jest-config')(__dirname);
// ESM-only packages jest must transform (the same list as JupyterLab's).
// As in JupyterLab's extension template, `@jupyterlab/` packages (ESM) and d3
// are transformed too, with @jupyterlab/testing's babel config.
const labEsModules = ['@codemirror', '@marijn', '@microsoft', '@jupyter/react-components',
  '@jupyter/web-components', '@jupyter/ydoc', '@jupyterlab/', 'color', 'exenv-es6', 'lib0', 'marked',
  'nanoid', 'vscode-ws-jsonrpc', 'y-protocols', 'y-websocket', 'yjs', 'd3', 'd3-[a-z-]+', 'internmap',
  'delaunator', 'robust-predicates'].join('|');
const labBabel = { ...require('@jupyterlab/testing/lib/babel-config').default, babelrc: false, configFile: false };
// Python environments hold package.json files of their own (lab extensions):
// not modules of this project, in every project's module map.
const IGNORED = ['<rootDir>/.venv', '<rootDir>/.venv-ui', '<rootDir>/.venv-bench', '<rootDir>/jupyterlab_meow', '<rootDir>/lib'];
module.exports = {
  reporters: ['default', '<rootDir>/tests/summary-reporter.js'],
  // Integration tests start Jupyter servers and kernels; unit tests are quick.
  testTimeout: 180000,
  modulePathIgnorePatterns: IGNORED,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/tests/unit/**/*.test.ts']
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      setupFiles: ['<rootDir>/tests/setup-console.js']
    },
    {
      // Kill, burst and fault tests on the real service; long, so CI runs them as one step.
      displayName: 'stress',
      modulePathIgnorePatterns: IGNORED,
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/tests/stress/**/*.test.ts'],
      setupFiles: ['<rootDir>/tests/setup-console.js']
    },
    {
      displayName: 'lab',
      testEnvironment: jlab.testEnvironment,
      setupFiles: jlab.setupFiles,
      resolver: jlab.resolver,
      moduleFileExtensions: jlab.moduleFileExtensions,
      // jsdom resolves the `browser` export condition; yaml's is ESM-only.
      moduleNameMapper: { ...jlab.moduleNameMapper, '^yaml$': '<rootDir>/node_modules/yaml/dist/index.js' },
      transform: {
        '\\.svg$': '@jupyterlab/testing/lib/jest-raw-loader.js',
        '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/tests/lab/tsconfig.json' }],
        '^.+\\.m?jsx?$': ['babel-jest', labBabel]
      },
      transformIgnorePatterns: [`/node_modules/(?!${labEsModules}).+`],
      testMatch: ['<rootDir>/tests/lab/**/*.test.ts']
    }
  ]
};
