// Two projects: fast pure/unit tests, and integration tests that start a real
// Jupyter server with ipykernel from the project's .venv.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.test.json' }];
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
    }
  ]
};
