/** Optimizers (SGD, AdamW) and per-iteration learning-rate schedules. */
export type { Optimizer, OptimizerState, ParamState, SGDConfig, AdamWConfig } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { AdamW } from './adamw.js';
export type { AdamWOptions } from './adamw.js';
export { parseSchedule, createSchedule, formatSchedule, SCHEDULE_FORMS } from './schedule.js';
export type { ScheduleSpec, BaseScheduleSpec, ScheduleOptions, LrSchedule } from './schedule.js';
