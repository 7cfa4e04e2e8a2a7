// Promise wrapper over one `sqlite3` connection, with the durability and privacy pragmas of SPEC §5.
import sqlite3 from 'sqlite3';

export type Param = string | number | bigint | Buffer | null;

/** The binding's Backup object, which its type declarations leave out. */
interface Backup {
  readonly completed: boolean;
  readonly failed: boolean;
  step(pages: number, callback: (err: Error | null) => void): void;
  finish(callback: () => void): void;
}

export class Sqlite {
  private readonly statements = new Map<string, sqlite3.Statement>();

  private constructor(private readonly db: sqlite3.Database) {}

  /** `existing`: read-write, but an error rather than a new empty database when there is none. */
  static open(path: string, mode: 'readwrite' | 'readonly' | 'existing' = 'readwrite'): Promise<Sqlite> {
    const flags = { readonly: sqlite3.OPEN_READONLY, existing: sqlite3.OPEN_READWRITE, readwrite: sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE }[mode];
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(path, flags, (err) => (err ? reject(err) : resolve(new Sqlite(db))));
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  /** Prepared once per distinct SQL text, so hot statements skip the parser. */
  private prepare(sql: string): sqlite3.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  run(sql: string, params: Param[] = []): Promise<{ changes: number }> {
    return new Promise((resolve, reject) => {
      this.prepare(sql).run(params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ changes: this.changes });
      });
    });
  }

  all<T>(sql: string, params: Param[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.prepare(sql).all(params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  async get<T>(sql: string, params: Param[] = []): Promise<T | undefined> {
    const rows = await this.all<T>(sql, params);
    return rows[0];
  }

  /**
   * Copies the whole database into a new file at `path` with SQLite's online backup API, in one
   * step: one read snapshot, so the copy is consistent while other connections keep writing.
   */
  backupTo(path: string): Promise<void> {
    const backup = (this.db as unknown as { backup(path: string): Backup }).backup(path);
    const finish = () => new Promise<void>((resolve) => backup.finish(() => resolve()));
    const step = (): Promise<void> =>
      new Promise<void>((resolve, reject) => backup.step(-1, (err) => (err ? reject(err) : resolve()))).then(() => {
        // A busy or locked source is retried (the binding's retryErrors); anything else has failed.
        if (backup.completed) return undefined;
        if (backup.failed) throw new Error('database backup failed');
        return new Promise<void>((r) => setTimeout(r, 50)).then(step);
      });
    return step().then(finish, (err: unknown) => finish().then(() => Promise.reject(err)));
  }

  async close(): Promise<void> {
    for (const stmt of this.statements.values()) await new Promise<void>((r) => stmt.finalize(() => r()));
    this.statements.clear();
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}
