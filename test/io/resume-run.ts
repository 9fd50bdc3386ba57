// Child process of resume.test.ts: `resume-run.ts <checkpoint> <out> <epochs>` loads a checkpoint,
// trains `epochs` more epochs of the same run and saves the result.
import { loadCheckpoint, saveModel, fit, CrossEntropyLoss } from '../../lib/index';
import { resumeData } from './resume-data';

async function main(): Promise<void> {
  const [file, out, epochs] = process.argv.slice(2);
  const ck = loadCheckpoint(file);
  const { x, y } = resumeData();
  const h = await fit(ck.model, x, y, {
    epochs: Number(epochs), batchSize: 16, validationSplit: 0.25, seed: 7, verbose: 0,
    loss: new CrossEntropyLoss(), optimizer: ck.optimizer!, resume: ck.trainer,
  });
  saveModel(ck.model, out, { optimizer: ck.optimizer, trainer: h.trainerState });
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
