export * from './definitions';
export * from './errors';
export * from './jobIndex';
export * from './query';
export * from './server';
export * from './routes';
export * from './transport';
