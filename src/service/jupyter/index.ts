export * from './server';
export * from './settings';
export * from './link';
