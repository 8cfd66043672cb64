/**
 * `conveyor chaos`: check a deployment's store under the faults the promise exists for, and say
 * whether every invariant held (exit 0) or which broke (exit 1). See src/chaos/.
 */
import { runChaos } from '../chaos/run.js';
import { FAULTS, type FaultName } from '../chaos/verdict.js';
import { toMs } from '../duration.js';
import { InvalidArgumentError } from '../errors.js';
import { printJson, table } from './format.js';
import { startBar } from './progress-bar.js';

export interface ChaosFlags {
  store: string;
  jobs: string;
  workers: string;
  concurrency: string;
  duration: string;
  lease: string;
  faults?: string;
  seed?: string;
  json?: boolean;
}

function count(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} must be an integer >= ${min}, got "${value}"`);
  return n;
}

export async function chaosCommand(flags: ChaosFlags): Promise<number> {
  const faults = flags.faults?.split(',').map((f) => f.trim()).filter(Boolean) as FaultName[] | undefined;
  const unknown = faults?.find((f) => !FAULTS.includes(f));
  if (unknown !== undefined) throw new InvalidArgumentError(`--faults: unknown fault "${unknown}"; use ${FAULTS.join(', ')}`);
  const jobs = count(flags.jobs, '--jobs', 1);
  const bar = flags.json ? null : startBar('chaos {bar} {value}/{total} payments final | {faults} faults | {phase}', jobs, { faults: 0, phase: 'starting' });
  const report = await runChaos({
    store: flags.store,
    jobs,
    workers: count(flags.workers, '--workers', 1),
    concurrency: count(flags.concurrency, '--concurrency', 1),
    durationMs: toMs(flags.duration, '--duration'),
    leaseMs: toMs(flags.lease, '--lease'),
    faults,
    seed: flags.seed === undefined ? undefined : count(flags.seed, '--seed', 0),
    onProgress: (p) => bar?.update(p.final, { faults: p.faults, phase: p.phase }),
  }).finally(() => bar?.stop());
  if (flags.json) {
    printJson(report);
  } else {
    const mark = (ok: boolean | null) => (ok === null ? '·' : ok ? 'ok' : 'FAIL');
    process.stdout.write(`conveyor chaos on ${report.store} (seed ${report.seed}, ${(report.durationMs / 1000).toFixed(1)} s)\n`);
    for (const [fault, why] of Object.entries(report.skipped)) process.stdout.write(`  ${fault}: not applicable: ${why}\n`);
    process.stdout.write(`${table(['invariant', 'expected', 'observed', ''], report.rows.map((r) => [r.check, r.expected, r.observed, mark(r.ok)]))}\n`);
    const broken = report.rows.filter((r) => r.ok === false).length;
    process.stdout.write(report.ok ? 'verdict: PASS, every invariant held\n' : `verdict: FAIL, ${broken} invariant(s) broken (replay with --seed ${report.seed})\n`);
  }
  return report.ok ? 0 : 1;
}
