import type { Case } from '../case';
import tensor from './tensor';
import layers from './layers';
import sequential from './sequential';
import losses from './losses';
import optim from './optim';
import preprocess from './preprocess';
import train from './train';
import diagnostics from './diagnostics';
import init from './init';
import backend from './backend';
import io from './io';

export const GROUPS: Record<string, Case[]> = { tensor, init, layers, sequential, losses, optim, preprocess, train, diagnostics, backend, io };
