// `npm run bench -- fit`: only the train family's comparison of fit against the explicit loop
// (both models, 1 and 2 threads), without the peers; `npm run bench -- train` includes it.
import { nativeBackend } from '../lib/testing';
import { fitTable } from './train';

export async function run(): Promise<string> {
  return fitTable(nativeBackend());
}
