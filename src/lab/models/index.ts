export * from './jobs';
export * from './status';
export * from './workflow';
export * from './paused';
export * from './manual';
