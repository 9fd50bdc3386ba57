/**
 * The layer registry: every layer class a saved config may name. Built-in layers are registered
 * here; `registerLayer(MyLayer)` adds a user layer (a Layer subclass whose `fromConfig` — inherited
 * from Layer, or its own — rebuilds it from its getConfig() output). `sequentialFromConfig` rebuilds
 * a whole Sequential from `model.getConfig()`, built for the saved input shape.
 */
import { Layer } from '../layers/layer';
import { Linear } from '../layers/linear';
import { ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Maxout } from '../layers/activation';
import { Conv2d } from '../layers/conv';
import { MaxPool2d, AvgPool2d } from '../layers/pool';
import { Flatten, Dropout } from '../layers/reshape';
import { BatchNorm1d, BatchNorm2d, LayerNorm, InstanceNorm2d, GroupNorm } from '../layers/norm';
import { Identity, Softmax, GlobalAvgPool2d, AdaptiveAvgPool2d } from '../layers/blocks';
import { Block, Residual, Concat, setChildFactory } from '../layers/containers';
import { Sequential } from '../model';
import type { SequentialArgs } from '../model';
import { checkOptions, describe, fail } from '../validate';

/** A layer class the registry can rebuild: constructed from options, with a static fromConfig. */
export type LayerClass = (abstract new (...args: any[]) => Layer) & { fromConfig(config: Record<string, unknown>): Layer; name: string };

const registry = new Map<string, LayerClass>();

/**
 * Registers a layer class under `name` (default: the class's name, which must equal the
 * `className` its instances report). Registering a name again replaces the class.
 */
export function registerLayer(cls: LayerClass, name?: string): void {
  if (typeof cls !== 'function' || !(cls.prototype instanceof Layer)) fail('type', 'a Layer subclass', 'cls', describe(cls));
  if (typeof cls.fromConfig !== 'function') fail('type', 'a class with a static fromConfig(config)', 'cls', describe(cls));
  const key = name ?? cls.name;
  if (typeof key !== 'string' || key.length === 0) fail('type', 'non-empty string', 'name', describe(key));
  registry.set(key, cls);
}

/** The class names a config may use. */
export function registeredLayers(): string[] {
  return [...registry.keys()];
}

for (const cls of [
  Linear, ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Maxout, Conv2d, MaxPool2d, AvgPool2d, Flatten, Dropout,
  BatchNorm1d, BatchNorm2d, LayerNorm, InstanceNorm2d, GroupNorm,
  Identity, Softmax, GlobalAvgPool2d, AdaptiveAvgPool2d, Residual, Concat,
] as unknown as LayerClass[]) {
  registerLayer(cls);
}
// A Sequential inside a Sequential is a Block; its config says 'Sequential' as PyTorch's would.
registerLayer(Block as unknown as LayerClass, 'Sequential');

/** Rebuilds one layer from its config through the registry. */
export function layerFromConfig(config: unknown, name = 'config'): Layer {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) fail('type', 'layer config object', name, describe(config));
  const cls = (config as { className?: unknown }).className;
  if (typeof cls !== 'string') fail('type', 'className string', `${name}.className`, describe(cls));
  const ctor = registry.get(cls);
  if (!ctor) {
    throw new RangeError(
      `Expected a registered layer class (${registeredLayers().join(', ')}) for ${name}.className but received '${cls}': ` +
        `call registerLayer(${/^[A-Za-z_$][\w$]*$/.test(cls) ? cls : 'YourLayer'}) before loading`,
    );
  }
  try {
    return ctor.fromConfig(config as Record<string, unknown>);
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) {
      const E = e instanceof TypeError ? TypeError : RangeError;
      throw new E(`${e.message} (in ${name}, a ${cls})`);
    }
    throw e;
  }
}

setChildFactory((config, name) => layerFromConfig(config, name));

/** Rebuilds a Sequential from `model.getConfig()`; built when the config has an input shape. */
export function sequentialFromConfig(config: unknown, args: Omit<SequentialArgs, 'inputShape'> = {}): Sequential {
  checkOptions(args, ['seed', 'backend', 'inputGrad'], 'sequentialFromConfig');
  if (config === null || typeof config !== 'object' || Array.isArray(config)) fail('type', 'Sequential config object', 'config', describe(config));
  const c = config as { className?: unknown; layers?: unknown; inputShape?: unknown };
  if (c.className !== 'Sequential') fail('range', "className 'Sequential'", 'config.className', describe(c.className));
  if (!Array.isArray(c.layers) || c.layers.length === 0) fail('range', 'a non-empty array of layer configs', 'config.layers', describe(c.layers));
  const layers = c.layers.map((l, i) => layerFromConfig(l, `config.layers[${i}]`));
  const inputShape = c.inputShape === null || c.inputShape === undefined ? undefined : c.inputShape;
  if (inputShape !== undefined && !Array.isArray(inputShape)) fail('type', 'array of positive integers or null', 'config.inputShape', describe(inputShape));
  return new Sequential(layers, { ...args, ...(inputShape ? { inputShape: inputShape as number[] } : {}) });
}
