/**
 * The seeded generator all randomness comes from (init, shuffling, dropout, splits): passed
 * explicitly, never Math.random. xoshiro128** for uniforms, Box–Muller (cached pair) for normals.
 */
import { checkInt } from './validate';

export class Generator {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(seed = 0) {
    checkInt(seed, 'seed', 0, 2 ** 32 - 1);
    // splitmix32 to spread the seed over the state
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** The full state (four 32-bit words and the cached normal), for checkpoints. */
  getState(): number[] {
    return [this.s0, this.s1, this.s2, this.s3, ...(this.spare === null ? [] : [this.spare])];
  }

  /** Restores a state from getState() (checked: four 32-bit words, not all zero, and an optional finite normal). */
  setState(state: unknown): void {
    const s = state as number[];
    const ok =
      Array.isArray(s) && (s.length === 4 || s.length === 5) &&
      s.slice(0, 4).every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) && s.slice(0, 4).some((w) => w !== 0) &&
      (s.length === 4 || Number.isFinite(s[4]));
    if (!ok) throw new RangeError(`Expected a generator state of four 32-bit words (not all zero) for state but received ${JSON.stringify(state)?.slice(0, 80)}`);
    [this.s0, this.s1, this.s2, this.s3] = s;
    this.spare = s.length === 5 ? s[4] : null;
  }

  /** Next 32 random bits. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
