export { runTraining, loadSplits } from './trainer.js';
export type { TrainSummary, EpochRecord, TrainHooks } from './trainer.js';
export { DEFAULT_TRAIN_CONFIG, validateTrainConfig } from './config.js';
export type { TrainConfig } from './config.js';
export { evaluate } from './evaluate.js';
export type { EvalResult } from './evaluate.js';
export { countCorrect, EpochMeter } from './metrics.js';
export { Progress, formatDuration } from './progress.js';
export { RunLog, writeFileAtomic } from './runlog.js';
