// Two projects: fast pure/unit tests, and integration tests that start a real
// Jupyter server with ipykernel from the project's .venv.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.test.json' }];
// The JupyterLab extension's tests (project `lab`) run in jsdom with
// @jupyterlab/testing's environment, shims and resolver.
const jlab = require('@jupyterlab/testing/lib/jest-config')(__dirname);
// ESM-only packages jest must transform (the same list as JupyterLab's).
const labEsModules = ['@codemirror', '@marijn', '@microsoft', '@jupyter/react-components',
  '@jupyter/web-components', '@jupyter/ydoc', 'color', 'exenv-es6', 'lib0', 'marked', 'nanoid',
  'vscode-ws-jsonrpc', 'y-protocols', 'y-websocket', 'yjs'].join('|');
module.exports = {
  reporters: ['default', '<rootDir>/tests/summary-reporter.js'],
  // Integration tests start Jupyter servers and kernels; unit tests are quick.
  testTimeout: 180000,
  modulePathIgnorePatterns: ['<rootDir>/.venv', '<rootDir>/jupyterlab_meow', '<rootDir>/lib'],
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
      displayName: 'lab',
      testEnvironment: jlab.testEnvironment,
      setupFiles: jlab.setupFiles,
      resolver: jlab.resolver,
      moduleFileExtensions: jlab.moduleFileExtensions,
      // jsdom resolves the `browser` export condition; yaml's is ESM-only.
      moduleNameMapper: { ...jlab.moduleNameMapper, '^yaml$': '<rootDir>/node_modules/yaml/dist/index.js' },
      transform: {
        '\\.svg$': '@jupyterlab/testing/lib/jest-raw-loader.js',
        '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/tests/lab/tsconfig.json' }]
      },
      transformIgnorePatterns: [`/node_modules/(?!${labEsModules}).+`],
      testMatch: ['<rootDir>/tests/lab/**/*.test.ts']
    }
  ]
};
