export * from './kernel';
export * from './kernelJob';
export * from './outputs';
export * from './setup';
export * from './writer';
