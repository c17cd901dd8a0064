/**
 * Training checkpoints: everything a run needs to continue as if never stopped, in one
 * safetensors file written atomically (temporary file, then rename):
 * - tensors `model.<name>`: the model's state dict (PyTorch names, BN running stats included);
 * - tensors `optimizer.<index>.<buffer>`: the optimizer's per-parameter buffers
 *   (`momentum_buffer`, `exp_avg`, `exp_avg_sq`; index into model.parameters());
 * - metadata `leantrain.checkpoint`: JSON of the format version, the training config, the
 *   optimizer kind/options/steps, the trainer position (epochs done, global step, history,
 *   timings, pruning statistics) and each module's extra state (dropout generators).
 * The data order, augmentation, pruning draws and learning rate are functions of (seed, epoch,
 * step), so they need no state: a run resumed from the checkpoint of epoch E replays epoch E+1
 * exactly as the uninterrupted run did.
 */
import { DataError } from '../core/errors.js';
import type { Module } from '../nn/module.js';
import type { Optimizer, OptimizerState, ParamState } from '../optim/optimizer.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { Tensor } from '../tensor/tensor.js';
import type { TrainConfig } from './config.js';

const FORMAT = 'leantrain-checkpoint-1';
const META_KEY = 'leantrain.checkpoint';

const BUFFERS = [
  ['momentumBuffer', 'momentum_buffer'],
  ['expAvg', 'exp_avg'],
  ['expAvgSq', 'exp_avg_sq'],
] as const;

/** Where training stands at the end of an epoch (plain JSON). */
export interface TrainerPosition {
  /** Epochs completed. */
  epoch: number;
  /** Optimizer steps taken (the schedule and pruning position). */
  step: number;
  /** Per-epoch records so far (TrainSummary.history). */
  history: unknown[];
  /** Anything else the trainer keeps for its summary (timings, pruning statistics). */
  extra: Record<string, unknown>;
}

export interface Checkpoint {
  config: TrainConfig;
  position: TrainerPosition;
  /** Model state dict by PyTorch name. */
  model: Map<string, Tensor>;
  optimizer: OptimizerState;
  /** Module path -> extra state (Module.extraState). */
  modules: Record<string, unknown>;
}

/** Writes a checkpoint of `model`, `optimizer` and the trainer position to `file`, atomically. */
export function writeCheckpoint(
  file: string,
  c: { config: TrainConfig; position: TrainerPosition; model: Module; optimizer: Optimizer },
): void {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of c.model.stateDict()) tensors.set(`model.${k}`, t);
  const opt = c.optimizer.stateDict();
  const steps: Record<string, number> = {};
  for (const [i, s] of Object.entries(opt.state)) {
    steps[i] = s.step;
    for (const [field, name] of BUFFERS) {
      const v = s[field];
      if (v !== undefined) tensors.set(`optimizer.${i}.${name}`, new Tensor(Float32Array.from(v), [v.length]));
    }
  }
  const modules: Record<string, unknown> = {};
  for (const [p, m] of c.model.namedModules()) {
    const s = m.extraState();
    if (s !== null) modules[p] = s;
  }
  const meta = {
    format: FORMAT,
    config: c.config,
    position: c.position,
    optimizer: { type: opt.type, options: opt.options, steps },
    modules,
  };
  writeSafetensors(file, tensors, { format: 'pt', framework: 'leantrain', [META_KEY]: JSON.stringify(meta) });
}

/** Reads and validates a checkpoint (DataError naming the file on anything malformed). */
export function readCheckpoint(file: string): Checkpoint {
  const { tensors, metadata } = readSafetensors(file);
  const fail = (what: string): never => {
    throw new DataError(`${file}: not a leantrain training checkpoint: ${what}`);
  };
  const raw = metadata[META_KEY];
  if (raw === undefined) fail(`no '${META_KEY}' metadata (a weights file? use --init-from for those)`);
  let meta: {
    format?: unknown; config?: unknown; position?: unknown; optimizer?: { type?: unknown; options?: unknown; steps?: Record<string, unknown> }; modules?: unknown;
  };
  try {
    meta = JSON.parse(raw);
  } catch (e) {
    return fail(`metadata is not JSON (${(e as Error).message})`);
  }
  if (meta.format !== FORMAT) fail(`format '${String(meta.format)}', expected '${FORMAT}'`);
  if (typeof meta.config !== 'object' || meta.config === null) fail('no config');
  const pos = meta.position as TrainerPosition | undefined;
  if (!pos || !Number.isInteger(pos.epoch) || pos.epoch < 1 || !Number.isInteger(pos.step) || pos.step < 0 || !Array.isArray(pos.history)) {
    fail('bad trainer position');
  }
  const o = meta.optimizer;
  if (!o || (o.type !== 'SGD' && o.type !== 'AdamW') || typeof o.steps !== 'object' || o.steps === null) fail('bad optimizer entry');
  const model = new Map<string, Tensor>();
  const bufs = new Map<string, Tensor>();
  for (const [k, t] of tensors) {
    if (k.startsWith('model.')) model.set(k.slice('model.'.length), t);
    else if (k.startsWith('optimizer.')) bufs.set(k.slice('optimizer.'.length), t);
    else fail(`unexpected tensor '${k}'`);
  }
  const state: Record<string, ParamState> = {};
  for (const [i, step] of Object.entries(o!.steps!)) {
    if (!/^\d+$/.test(i) || !Number.isInteger(step)) fail(`bad optimizer step entry '${i}'`);
    const s: ParamState = { step: step as number };
    for (const [field, name] of BUFFERS) {
      const t = bufs.get(`${i}.${name}`);
      if (t !== undefined) {
        s[field] = Array.from(t.data);
        bufs.delete(`${i}.${name}`);
      }
    }
    state[i] = s;
  }
  if (bufs.size > 0) fail(`optimizer buffers without a parameter entry: ${[...bufs.keys()].join(', ')}`);
  return {
    config: meta.config as TrainConfig,
    position: pos!,
    model,
    optimizer: { type: o!.type, options: o!.options, state } as OptimizerState,
    modules: (meta.modules ?? {}) as Record<string, unknown>,
  };
}

/** Restores model weights, optimizer state and module extra state from `ck` (strict names and shapes). */
export function restoreCheckpoint(file: string, ck: Checkpoint, model: Module, optimizer: Optimizer): void {
  try {
    model.loadStateDict(ck.model, true);
    optimizer.loadStateDict(ck.optimizer);
    const mods = new Map(model.namedModules());
    for (const [p, s] of Object.entries(ck.modules)) {
      const m = mods.get(p);
      if (m === undefined) throw new DataError(`module '${p}' has saved state but is not in the model`);
      m.loadExtraState(s);
    }
  } catch (e) {
    throw new DataError(`${file}: cannot resume from this checkpoint: ${(e as Error).message}`);
  }
}
