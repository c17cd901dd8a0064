/**
 * ONNX export of a model's inference graph (opset 13, IR version 7; https://onnx.ai).
 *
 * The graph is traced: one eval-mode forward of a single image runs with a backend that passes
 * every kernel call through to the real kernels and records it as ONNX nodes (a kernel call has
 * everything a node needs: its input and output arrays, which name the values, and its dims,
 * which give the attributes). Arrays of parameters and buffers become initializers named as in
 * the state dict. Views (flatten, reshape) are invisible to kernels, so a Gemm fed a 4-D value
 * gets a Flatten(axis 1). The batch dimension is symbolic ('N').
 *
 * Mapping: conv2dForward -> Conv; batch norm (eval) -> BatchNormalization (+ Add + Relu for the
 * fused block epilogue), or folded into the preceding Conv with `foldBatchNorm`; reluForward ->
 * Relu; add -> Add; max / average pool -> MaxPool / AveragePool (count_include_pad = 1); global
 * average pool -> GlobalAveragePool; linearForward -> Gemm (transB = 1); option-A shortcut ->
 * Slice (steps) + Pad. Anything else (a kernel without a mapping, or a value computed outside
 * the kernels) is an UnsupportedError naming it, and no file is written.
 */
import { withBackend, kernels } from '../backend/active.js';
import { wrapKernels } from '../backend/wrap.js';
import type { Conv2dDims, Kernels, LinearDims, Pool2dDims, ShortcutDims, ChannelDims, BatchNormEpilogue } from '../backend/kernels.js';
import { noGrad } from '../autograd/graph.js';
import type { FloatArray } from '../core/dtype.js';
import { UnsupportedError } from '../core/errors.js';
import type { Module } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from '../train/runlog.js';
import { ProtoWriter } from './protobuf.js';

const OPSET = 13;
const IR_VERSION = 7;
const FLOAT = 1;
const INT64 = 7;

type Attr = { name: string; i?: number; f?: number; ints?: number[] };

interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Attr[];
}

interface Initializer {
  dims: number[];
  f32?: Float32Array;
  i64?: bigint[];
}

export interface OnnxExportOptions {
  /** [C, H, W] of one input image. */
  inputShape: [number, number, number];
  /** Fold each BatchNormalization that directly follows a Conv into the Conv's weights and bias. */
  foldBatchNorm?: boolean;
  /** Graph name (default 'leantrain'). */
  name?: string;
}

/** What an export wrote: node counts by op type, for reports and tests. */
export interface OnnxExportInfo {
  nodes: Record<string, number>;
  initializers: number;
  bytes: number;
}

/** Records kernel calls as ONNX nodes. */
class Tracer {
  readonly nodes: OnnxNode[] = [];
  readonly inits = new Map<string, Initializer>();
  private readonly names = new Map<FloatArray, string>();
  private readonly shapes = new Map<string, number[]>();
  private readonly params: Map<FloatArray, string>;
  private counter = 0;

  constructor(model: Module) {
    this.params = new Map([...model.stateDict()].map(([k, t]) => [t.data, k] as [FloatArray, string]));
  }

  setInput(a: FloatArray, shape: number[]): void {
    this.names.set(a, 'input');
    this.shapes.set('input', shape);
  }

  /** The name of an existing value (activation or parameter). */
  use(a: FloatArray, what: string): string {
    const n = this.names.get(a);
    if (n !== undefined) return n;
    const p = this.params.get(a);
    if (p !== undefined) {
      if (!this.inits.has(p)) this.inits.set(p, { dims: [a.length], f32: Float32Array.from(a) });
      return p;
    }
    throw new UnsupportedError(`ONNX export: the ${what} comes from an op that has no ONNX mapping (computed outside the kernels)`);
  }

  /** A parameter's name with its shape recorded. */
  param(a: FloatArray, dims: number[], what: string): string {
    const n = this.use(a, what);
    const init = this.inits.get(n);
    if (init !== undefined) init.dims = dims;
    return n;
  }

  /** A name for a new value produced into `a`. */
  out(a: FloatArray, shape: number[]): string {
    const n = `t${this.counter++}`;
    this.names.set(a, n);
    this.shapes.set(n, shape);
    return n;
  }

  shapeOf(name: string): number[] {
    return this.shapes.get(name) ?? [];
  }

  fresh(shape: number[]): string {
    const n = `t${this.counter++}`;
    this.shapes.set(n, shape);
    return n;
  }

  constInt64(values: number[]): string {
    const n = `c${this.counter++}`;
    this.inits.set(n, { dims: [values.length], i64: values.map((v) => BigInt(v)) });
    return n;
  }

  node(op: string, inputs: string[], outputs: string[], attrs: Attr[] = []): void {
    this.nodes.push({ op, inputs, outputs, attrs });
  }

  outputName(a: FloatArray): string | undefined {
    return this.names.get(a);
  }
}

function pads(padH: number, padW: number): Attr {
  return { name: 'pads', ints: [padH, padW, padH, padW] };
}

/** A backend recording `t`'s ONNX nodes while running `base`. */
function tracing(base: Kernels, t: Tracer): Kernels {
  const bnNodes = (x: FloatArray, g: FloatArray, b: FloatArray, rm: FloatArray, rv: FloatArray, eps: number, y: FloatArray, d: ChannelDims, ep?: BatchNormEpilogue): void => {
    const xs = t.use(x, 'batch-norm input');
    const shape = t.shapeOf(xs);
    const C = [d.C];
    const ins = [xs, t.param(g, C, 'BN weight'), t.param(b, C, 'BN bias'), t.param(rm, C, 'BN running mean'), t.param(rv, C, 'BN running var')];
    const res = ep?.residual ?? null;
    const relu = ep?.relu === true;
    let cur = res === null && !relu ? t.out(y, shape) : t.fresh(shape);
    t.node('BatchNormalization', ins, [cur], [{ name: 'epsilon', f: eps }]);
    if (res !== null) {
      const sum = relu ? t.fresh(shape) : t.out(y, shape);
      t.node('Add', [cur, t.use(res, 'residual')], [sum]);
      cur = sum;
    }
    if (relu) t.node('Relu', [cur], [t.out(y, shape)]);
  };
  const map: Partial<Kernels> = {
    conv2dForward: (x, w, b, y, d: Conv2dDims) => {
      base.conv2dForward(x, w, b, y, d);
      const ins = [t.use(x, 'conv input'), t.param(w, [d.K, d.C, d.R, d.S], 'conv weight')];
      if (b !== null) ins.push(t.param(b, [d.K], 'conv bias'));
      t.node('Conv', ins, [t.out(y, [d.N, d.K, d.P, d.Q])], [
        { name: 'kernel_shape', ints: [d.R, d.S] }, { name: 'strides', ints: [d.strideH, d.strideW] }, pads(d.padH, d.padW), { name: 'group', i: 1 },
      ]);
    },
    batchNormForwardEval: (x, g, b, rm, rv, eps, y, d, ep) => {
      base.batchNormForwardEval(x, g, b, rm, rv, eps, y, d, ep);
      bnNodes(x, g, b, rm, rv, eps, y, d, ep);
    },
    reluForward: (x, y, n) => {
      base.reluForward(x, y, n);
      const xs = t.use(x, 'relu input');
      t.node('Relu', [xs], [t.out(y, t.shapeOf(xs))]);
    },
    add: (a, b, out, n) => {
      base.add(a, b, out, n);
      const as = t.use(a, 'add input');
      t.node('Add', [as, t.use(b, 'add input')], [t.out(out, t.shapeOf(as))]);
    },
    maxPool2dForward: (x, y, argmax, d: Pool2dDims) => {
      base.maxPool2dForward(x, y, argmax, d);
      t.node('MaxPool', [t.use(x, 'max-pool input')], [t.out(y, [d.N, d.C, d.P, d.Q])], [
        { name: 'kernel_shape', ints: [d.R, d.S] }, { name: 'strides', ints: [d.strideH, d.strideW] }, pads(d.padH, d.padW),
      ]);
    },
    avgPool2dForward: (x, y, d: Pool2dDims) => {
      base.avgPool2dForward(x, y, d);
      t.node('AveragePool', [t.use(x, 'average-pool input')], [t.out(y, [d.N, d.C, d.P, d.Q])], [
        { name: 'kernel_shape', ints: [d.R, d.S] }, { name: 'strides', ints: [d.strideH, d.strideW] }, pads(d.padH, d.padW), { name: 'count_include_pad', i: 1 },
      ]);
    },
    globalAvgPoolForward: (x, y, d: ChannelDims) => {
      base.globalAvgPoolForward(x, y, d);
      t.node('GlobalAveragePool', [t.use(x, 'global-pool input')], [t.out(y, [d.N, d.C, 1, 1])]);
    },
    linearForward: (x, w, b, y, d: LinearDims) => {
      base.linearForward(x, w, b, y, d);
      let xs = t.use(x, 'linear input');
      if (t.shapeOf(xs).length !== 2) {
        const flat = t.fresh([d.N, d.IN]);
        t.node('Flatten', [xs], [flat], [{ name: 'axis', i: 1 }]);
        xs = flat;
      }
      const ins = [xs, t.param(w, [d.OUT, d.IN], 'linear weight')];
      if (b !== null) ins.push(t.param(b, [d.OUT], 'linear bias'));
      t.node('Gemm', ins, [t.out(y, [d.N, d.OUT])], [{ name: 'transB', i: 1 }]);
    },
    shortcutPadForward: (x, y, d: ShortcutDims) => {
      base.shortcutPadForward(x, y, d);
      const P = Math.ceil(d.H / d.stride), Q = Math.ceil(d.W / d.stride);
      const before = Math.floor((d.K - d.C) / 2);
      const sliced = t.fresh([d.N, d.C, P, Q]);
      const big = 2 ** 62; // "to the end" (any value >= the dimension)
      t.node('Slice', [t.use(x, 'shortcut input'), t.constInt64([0, 0]), t.constInt64([big, big]), t.constInt64([2, 3]), t.constInt64([d.stride, d.stride])], [sliced]);
      t.node('Pad', [sliced, t.constInt64([0, before, 0, 0, 0, d.K - d.C - before, 0, 0])], [t.out(y, [d.N, d.K, P, Q])]); // mode 'constant', value 0: the defaults
    },
  };
  return wrapKernels(base, map, (kernel) => {
    throw new UnsupportedError(`ONNX export: kernel '${kernel}' has no ONNX mapping (is the model in eval mode, and made of supported layers?)`);
  });
}

/** Folds BatchNormalization nodes that directly follow a Conv whose output nothing else reads. */
function foldBatchNorms(t: Tracer): void {
  const producer = new Map<string, OnnxNode>();
  const readers = new Map<string, number>();
  for (const n of t.nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  }
  const drop = new Set<OnnxNode>();
  for (const bn of t.nodes) {
    if (bn.op !== 'BatchNormalization') continue;
    const conv = producer.get(bn.inputs[0]);
    if (conv === undefined || conv.op !== 'Conv' || readers.get(bn.inputs[0]) !== 1) continue;
    const [gamma, beta, mean, vari] = bn.inputs.slice(1).map((n) => t.inits.get(n)!.f32!);
    const eps = bn.attrs.find((a) => a.name === 'epsilon')!.f!;
    const w = t.inits.get(conv.inputs[1])!;
    const K = w.dims[0];
    const per = w.f32!.length / K;
    const wf = new Float32Array(w.f32!.length);
    const bf = new Float32Array(K);
    const bias = conv.inputs[2] !== undefined ? t.inits.get(conv.inputs[2])!.f32! : null;
    for (let k = 0; k < K; k++) {
      const s = gamma[k] / Math.sqrt(vari[k] + eps);
      for (let i = 0; i < per; i++) wf[k * per + i] = w.f32![k * per + i] * s;
      bf[k] = ((bias ? bias[k] : 0) - mean[k]) * s + beta[k];
    }
    const wn = `${bn.inputs[1].replace(/\.weight$/, '')}.folded_conv_weight`;
    const bnName = `${bn.inputs[1].replace(/\.weight$/, '')}.folded_conv_bias`;
    t.inits.set(wn, { dims: w.dims, f32: wf });
    t.inits.set(bnName, { dims: [K], f32: bf });
    conv.inputs = [conv.inputs[0], wn, bnName];
    conv.outputs = bn.outputs;
    drop.add(bn);
  }
  const kept = t.nodes.filter((n) => !drop.has(n));
  t.nodes.length = 0;
  t.nodes.push(...kept);
  const used = new Set(t.nodes.flatMap((n) => n.inputs));
  for (const k of [...t.inits.keys()]) if (!used.has(k)) t.inits.delete(k);
}

function valueInfo(name: string, dims: (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, typeof d === 'string' ? new ProtoWriter().string(2, d) : new ProtoWriter().int(1, d));
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

function encodeModel(t: Tracer, inputDims: number[], outputName: string, outputDims: number[], graphName: string): Uint8Array {
  const g = new ProtoWriter();
  t.nodes.forEach((n, i) => {
    const w = new ProtoWriter();
    for (const s of n.inputs) w.string(1, s);
    for (const s of n.outputs) w.string(2, s);
    w.string(3, `${n.op}_${i}`).string(4, n.op);
    for (const a of n.attrs) {
      const aw = new ProtoWriter().string(1, a.name);
      if (a.ints !== undefined) {
        for (const v of a.ints) aw.int(8, v);
        aw.int(20, 7);
      } else if (a.f !== undefined) aw.float(2, a.f).int(20, 1);
      else aw.int(3, a.i!).int(20, 2);
      w.message(5, aw);
    }
    g.message(1, w);
  });
  g.string(2, graphName);
  for (const [name, init] of t.inits) {
    const tw = new ProtoWriter();
    for (const d of init.dims) tw.int(1, d);
    tw.int(2, init.f32 ? FLOAT : INT64).string(8, name);
    if (init.f32) tw.bytes(9, new Uint8Array(init.f32.buffer, init.f32.byteOffset, init.f32.byteLength));
    else {
      const b = new Uint8Array(8 * init.i64!.length);
      const dv = new DataView(b.buffer);
      init.i64!.forEach((v, i) => dv.setBigInt64(8 * i, v, true));
      tw.bytes(9, b);
    }
    g.message(5, tw);
  }
  g.message(11, valueInfo('input', ['N', ...inputDims.slice(1)]));
  g.message(12, valueInfo(outputName, ['N', ...outputDims.slice(1)]));
  const m = new ProtoWriter()
    .int(1, IR_VERSION)
    .string(2, 'leantrain')
    .string(3, '0.1')
    .message(7, g)
    .message(8, new ProtoWriter().string(1, '').int(2, OPSET));
  return m.finish();
}

/**
 * Writes `model`'s inference graph to `file` as ONNX (atomically), traced at `inputShape`.
 * @example exportOnnx(createModel('resnet20'), 'model.onnx', { inputShape: [3, 32, 32] });
 */
export function exportOnnx(model: Module, file: string, opts: OnnxExportOptions): OnnxExportInfo {
  const t = new Tracer(model);
  const wasTraining = model.training;
  model.eval();
  let y: Tensor;
  try {
    const x = Tensor.zeros([1, ...opts.inputShape]);
    t.setInput(x.data, [1, ...opts.inputShape]);
    y = withBackend(tracing(kernels(), t), () => noGrad(() => model.call(x)));
  } finally {
    model.train(wasTraining);
  }
  const outName = t.outputName(y.data);
  if (outName === undefined) throw new UnsupportedError('ONNX export: the model output is not produced by a mapped kernel');
  for (const n of t.nodes) n.outputs = n.outputs.map((o) => (o === outName ? 'logits' : o));
  for (const n of t.nodes) n.inputs = n.inputs.map((i) => (i === outName ? 'logits' : i));
  if (opts.foldBatchNorm) foldBatchNorms(t);
  const bytes = encodeModel(t, [1, ...opts.inputShape], 'logits', [...y.shape], opts.name ?? 'leantrain');
  writeFileAtomic(file, bytes);
  const nodes: Record<string, number> = {};
  for (const n of t.nodes) nodes[n.op] = (nodes[n.op] ?? 0) + 1;
  return { nodes, initializers: t.inits.size, bytes: bytes.length };
}
