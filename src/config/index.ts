export { loadConfig, loadMaxHeapSetting, describeConfig, type LoadConfigOptions, type ConfigProblem } from './load.js';
export { KEYS, type Config, type ConfigKey } from './schema.js';
export { LIMITS } from './limits.js';
