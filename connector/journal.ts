// The results of finished jobs, kept so that a job delivered again (the conductor
// redelivers what it has no result for after a reconnect) is answered from here instead of
// being run twice. Bounded: only the newest `size` results are kept, since the conductor
// only redelivers jobs from around the last disconnect.
import { z } from 'zod';
import { hostMessage, type HostMessage } from '../lib/connector-protocol';
import { StateFile } from './state-file';

export type ResultMessage = Extract<HostMessage, { type: 'result' }>;

const journalState = z.object({ results: z.array(hostMessage) });

export interface JobJournalOptions {
  /** How many results to keep (default 512). */
  size?: number;
  /** Keep the journal in this JSON file, so a restarted connector still knows what it ran. */
  file?: string;
}

export class JobJournal {
  private readonly results = new Map<string, ResultMessage>();
  private readonly size: number;
  private readonly file: StateFile<z.infer<typeof journalState>> | undefined;

  constructor(options: JobJournalOptions = {}) {
    this.size = options.size ?? 512;
    if (!(Number.isInteger(this.size) && this.size > 0)) throw new Error(`journal size must be a positive integer, got ${this.size}`);
    if (options.file) {
      this.file = new StateFile(options.file, journalState);
      for (const message of this.file.read()?.results ?? []) {
        if (message.type === 'result') this.remember(message);
      }
    }
  }

  get(jobId: string): ResultMessage | undefined {
    return this.results.get(jobId);
  }

  /** Keep a result; it is in memory at once, and on disk when the promise resolves. */
  record(result: ResultMessage): Promise<void> {
    this.remember(result);
    return this.flush();
  }

  flush(): Promise<void> {
    return this.file ? this.file.write(() => ({ results: [...this.results.values()] })) : Promise.resolve();
  }

  private remember(result: ResultMessage): void {
    this.results.delete(result.jobId);
    this.results.set(result.jobId, result);
    // A Map iterates in insertion order, so the first key is the oldest.
    while (this.results.size > this.size) {
      const oldest = this.results.keys().next();
      if (oldest.done) break;
      this.results.delete(oldest.value);
    }
  }
}
