export * from './kernel';
export * from './outputs';
export * from './setup';
export * from './writer';
