/** Option parsers for the CLI: each rejects bad values with an OptionError naming the flag. */
import { OptionError } from '../core/errors.js';

/** A positive integer option (e.g. --epochs). */
export function intOption(flag: string, min = 1): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isSafeInteger(n) || n < min) {
      throw new OptionError(`${flag} must be an integer >= ${min}, got '${v}'`);
    }
    return n;
  };
}

/** A finite number option with a lower bound (e.g. --lr >= 0). */
export function numberOption(flag: string, min = 0): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min) {
      throw new OptionError(`${flag} must be a number >= ${min}, got '${v}'`);
    }
    return n;
  };
}

/** One of a fixed set of words. */
export function choiceOption<T extends string>(flag: string, choices: readonly T[]): (v: string) => T {
  return (v: string) => {
    const hit = choices.find((c) => c === v);
    if (hit === undefined) throw new OptionError(`${flag} must be one of ${choices.join(', ')}, got '${v}'`);
    return hit;
  };
}
