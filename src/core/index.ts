/**
 * The MEOW core: pure data model and logic shared by the service (Node) and
 * the JupyterLab extension (browser). No I/O happens below this folder.
 */
export * from './types';
export * from './validation';
export * from './paths';
export * from './pyvalue';
export * from './glob';
export * from './sweep';
export * from './keywords';
export * from './pattern';
export * from './recipe';
export * from './parameterise';
export * from './workflow';
export * from './jobs';
export * from './provenance';
export * from './executor';
