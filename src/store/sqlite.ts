// Promise wrapper over one `sqlite3` connection, with the durability and privacy pragmas of SPEC §5.
import sqlite3 from 'sqlite3';

export type Param = string | number | bigint | Buffer | null;

export class Sqlite {
  private readonly statements = new Map<string, sqlite3.Statement>();

  private constructor(private readonly db: sqlite3.Database) {}

  static open(path: string, mode: 'readwrite' | 'readonly' = 'readwrite'): Promise<Sqlite> {
    const flags = mode === 'readonly' ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
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

  async close(): Promise<void> {
    for (const stmt of this.statements.values()) await new Promise<void>((r) => stmt.finalize(() => r()));
    this.statements.clear();
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}
