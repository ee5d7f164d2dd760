/**
 * A test reporter that writes nothing to its destination. It keeps what the test runner prints
 * in the run's log folder, so that the end-of-run sweep covers that output too (see
 * sandbox/log-sweep.ts). That covers test names, what tests print, diagnostics, and failures with
 * their messages, expected and actual values. `npm test` runs it next to the spec reporter.
 */
import { inspect } from 'node:util';
import { runLogChunks, runLogDir } from '../sandbox/log-sweep.ts';

interface RunnerEvent {
  readonly type: string;
  readonly data?: { name?: string; message?: string; file?: string; details?: { error?: unknown } };
}

export default async function* runnerLog(source: AsyncIterable<RunnerEvent>): AsyncGenerator<string> {
  let append: ((chunk: string) => void) | undefined;
  let done = false;
  const write = (text: string): void => {
    try {
      append!(text);
    } catch {
      // The global teardown has swept and removed the folder; only the summary comes after it.
      done = true;
    }
  };
  for await (const event of source) {
    if (done) continue;
    // The folder is made by the global set-up, after reporters start: open the log lazily.
    if (append === undefined) {
      if (runLogDir() === undefined) continue;
      append = runLogChunks('test-runner.log');
    }
    const d = event.data ?? {};
    switch (event.type) {
      case 'test:stdout':
      case 'test:stderr':
      case 'test:diagnostic':
        write(d.message?.endsWith('\n') ? d.message : `${d.message ?? ''}\n`);
        break;
      case 'test:pass':
        write(`ok ${d.name ?? ''}\n`);
        break;
      case 'test:fail':
        write(`not ok ${d.name ?? ''} (${d.file ?? ''})\n${inspect(d.details?.error, { depth: 6 })}\n`);
        break;
    }
  }
}
