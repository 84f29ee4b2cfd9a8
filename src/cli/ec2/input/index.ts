/**
 * @module cli/ec2/input — the command line of one `weir ec2|sts` call, read as awscli 1.x reads it:
 * argparse's decisions and messages, the operation's argument table and its customizations,
 * shorthand, `file://` values, the JSON/scalar unpacking of each parameter, and the
 * `--generate-cli-skeleton` sample input.
 */
export { ArgParseError, invalidChoiceMessage, parseKnownArgs } from './argparse.js';
export type { OptionSpec, ParsedArgs } from './argparse.js';
export {
  ConvenienceOptionError,
  argumentTable,
  buildCallParameters,
  checkConvenienceOptions,
  commandName,
  optionSpecs,
  relaxesRequired,
} from './arguments.js';
export type { CliArgument } from './arguments.js';
export { ResourceLoadingError, getParamfile } from './paramfile.js';
export { ParamError, supportsShorthand } from './params.js';
export type { ParamShape } from './params.js';
export { generateSkeleton } from './skeleton.js';
