import { describe, it, expect } from 'vitest';
import { native, js } from '../helpers';

describe('backends', () => {
  it('native reports its SIMD level and threads', () => {
    const c = native.capabilities();
    expect(c.backend).toBe('native');
    expect(['avx512', 'avx2', 'scalar']).toContain(c.simd);
    expect(c.threads).toBeGreaterThanOrEqual(1);
    expect(js.capabilities().backend).toBe('js');
  });
});
