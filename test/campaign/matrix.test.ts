// The bad-input matrix: every public export called with wrong kinds, sizes, shapes, options and
// states. Each group runs in a child process, so a crash (a signal, an abort) is seen as a crash
// and named by the case that caused it. Every case must throw its error class with a message of
// the project's form, naming the argument at fault.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { MESSAGE_FORM, type Case } from './case';
import { GROUPS } from './groups';

interface Outcome {
  returned?: boolean;
  error?: string;
  message?: string;
}

function runGroup(group: string): { outcomes: Map<number, Outcome>; crash: string | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'child.ts'), group], {
    cwd: path.join(__dirname, '..', '..'),
    encoding: 'utf8',
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const outcomes = new Map<number, Outcome>();
  let last = '';
  let done = false;
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line);
    if (o.start !== undefined) last = o.start;
    else if (o.done !== undefined) done = true;
    else outcomes.set(o.i, o);
  }
  const crash = done && r.status === 0 ? null : `exit ${r.status} signal ${r.signal} during '${last}': ${r.stderr.slice(-2000)}`;
  return { outcomes, crash };
}

for (const [group, cases] of Object.entries(GROUPS) as [string, Case[]][]) {
  describe(`bad inputs: ${group}`, () => {
    let res: ReturnType<typeof runGroup>;
    beforeAll(() => {
      res = runGroup(group);
    });
    it('the child process ran every case without crashing', () => {
      expect(res.crash).toBeNull();
      expect(res.outcomes.size).toBe(cases.length);
    });
    cases.forEach((c, i) => {
      it(c.name, () => {
        const o = res.outcomes.get(i);
        expect(o, 'no outcome (crashed before it)').toBeDefined();
        expect(o!.returned ? 'returned without an error' : `${o!.error}: ${o!.message}`).toMatch(new RegExp(`^${c.error}: `));
        expect(o!.message).toMatch(MESSAGE_FORM);
        if (c.names) expect(o!.message).toContain(c.names);
      });
    });
  });
}

it('the matrix has at least 300 cases', () => {
  const total = Object.values(GROUPS).reduce((s, g) => s + g.length, 0);
  expect(total).toBeGreaterThanOrEqual(300);
});
