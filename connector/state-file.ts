// A JSON file that a connector or a fake driver keeps its state in. Writes replace the
// file atomically (write a temporary file, rename it over), so a crash mid-write leaves
// the previous state, and writes asked for while one is under way are folded into one.
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { z } from 'zod';

let temporaryCount = 0;

export class StateFile<T> {
  private writing: Promise<void> | null = null;
  private again = false;

  constructor(
    readonly path: string,
    private readonly schema: z.ZodType<T>,
  ) {}

  /** What the file holds, or undefined when there is no file yet. Throws when it is not valid. */
  read(): T | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${this.path} is not valid JSON`);
    }
    const parsed = this.schema.safeParse(json);
    if (!parsed.success) throw new Error(`${this.path} does not hold a valid state: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }

  /**
   * Write what `snapshot` returns. The snapshot is taken when the write starts, so a call
   * made while another write runs still lands the newest state. Resolves once it is on disk.
   */
  write(snapshot: () => T): Promise<void> {
    if (this.writing) {
      this.again = true;
      return this.writing;
    }
    this.writing = (async () => {
      try {
        do {
          this.again = false;
          const temporary = `${this.path}.${process.pid}.${++temporaryCount}.tmp`;
          await writeFile(temporary, JSON.stringify(snapshot()));
          await rename(temporary, this.path);
        } while (this.again);
      } finally {
        this.writing = null;
      }
    })();
    return this.writing;
  }
}
