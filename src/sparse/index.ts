/** Activation-gradient pruning (sparse back-propagation): policies, thresholds, statistics. */
export { PrunedGradient } from '../autograd/pruned.js';
export type { PrunedBackwardReport } from '../autograd/pruned.js';
export * from './normal.js';
export * from './threshold.js';
export * from './topk.js';
export * from './options.js';
export * from './stats.js';
export * from './policy.js';
