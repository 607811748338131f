// A progress bar on the terminal for long work; silent when output is not a terminal.
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

const MIB = new Intl.NumberFormat('en', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const SILENT: Progress = { update() {}, stop() {} };

export function progressBar(label: string, unit: 'bytes' | 'items'): Progress {
  if (!process.stderr.isTTY) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {shown} | eta {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const shown = (done: number, total: number) =>
    unit === 'bytes'
      ? `${MIB.format(done / 1_048_576)} of ${MIB.format(total / 1_048_576)} MiB`
      : `${done} of ${total}`;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0, { shown: shown(0, total) });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { shown: shown(done, total) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
