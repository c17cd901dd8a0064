/**
 * Zoo models from saved state dicts (a PyTorch export, `model.safetensors`, a checkpoint's
 * weights): the class count and input channels are read off the state dict, the model is built
 * to fit, and the state loaded. Errors name the file and list what does not fit.
 */
import { DataError } from '../core/errors.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { createModel, modelInfo, type ModelOptions } from './registry.js';

/** Classes and input channels a state dict implies: its last 2-D tensor's rows, its first 4-D tensor's channels. */
export function stateDims(state: Map<string, Tensor>): { numClasses?: number; inChannels?: number } {
  const ts = [...state.values()];
  const last2d = ts.filter((t) => t.ndim === 2).pop();
  const first4d = ts.find((t) => t.ndim === 4);
  return { numClasses: last2d?.shape[0], inChannels: first4d?.shape[1] };
}

/**
 * Builds zoo model `name` to fit `state` (options given win over what the state implies, which
 * wins over the model's defaults) and loads it (strict names and shapes).
 * @param file where `state` came from, for errors
 * @param note appended to a mismatch error (e.g. entries the reader could not convert)
 * @example const m = modelFromState('resnet18', readSafetensors(f).tensors, f);
 */
export function modelFromState(name: string, state: Map<string, Tensor>, file: string, opts: ModelOptions = {}, note = ''): Module {
  const info = modelInfo(name);
  const dims = stateDims(state);
  const model = createModel(name, {
    ...opts,
    numClasses: opts.numClasses ?? dims.numClasses ?? info.defaultNumClasses,
    inChannels: opts.inChannels ?? dims.inChannels ?? info.defaultInChannels,
  });
  try {
    model.loadStateDict(state, true);
  } catch (e) {
    throw new DataError(`${file}: does not fit ${name}: ${(e as Error).message}${note}`);
  }
  return model;
}
