// Two projects: fast pure/unit tests, and integration tests that start a real
// Jupyter server with ipykernel from the project's .venv.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.service.json', isolatedModules: true }];
module.exports = {
  reporters: ['default', '<rootDir>/tests/summary-reporter.js'],
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
      testTimeout: 180000
    }
  ]
};
