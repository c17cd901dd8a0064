/**
 * Errors that users see. Each names what is wrong and where (the file, option, shape or kernel
 * at fault) and what was expected, so the CLI can print one line and exit non-zero.
 */
export class LeantrainError extends Error {
  override name = 'LeantrainError';
}

/** A tensor shape does not fit an op or layer, e.g. `conv2d(layer1.0.conv1): input has 3 channels, weight expects 16`. */
export class ShapeError extends LeantrainError {
  override name = 'ShapeError';
}

/** A kernel or backend cannot handle an argument (dtype, layout, option); names the kernel and the argument. */
export class UnsupportedError extends LeantrainError {
  override name = 'UnsupportedError';
}

/** A data file is missing, truncated or malformed; names the file and what was found vs expected. */
export class DataError extends LeantrainError {
  override name = 'DataError';
}

/** A user option (CLI flag, config field, constructor option) is invalid; names the option. */
export class OptionError extends LeantrainError {
  override name = 'OptionError';
}

/** Throws ShapeError with `message` unless `cond` holds. */
export function checkShape(cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new ShapeError(message());
}

/** Throws OptionError with `message` unless `cond` holds. */
export function checkOption(cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new OptionError(message());
}
