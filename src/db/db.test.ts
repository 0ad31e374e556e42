import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { dbLegs, openTestDb } from '../../test/helpers/db.ts';

for (const leg of dbLegs()) {
  test(`${leg}: statements prepared once keep working after another process changes the schema`, async () => {
    const t = await openTestDb(leg);
    try {
      await t.db.query(`CREATE TABLE prep_probe (id int PRIMARY KEY, a text)`, []);
      await t.db.query(`INSERT INTO prep_probe VALUES ($1, $2)`, [1, 'x']);
      // Used several times on every pooled connection, so each holds it prepared.
      await Promise.all(Array.from({ length: 30 }, () => t.db.query(`SELECT * FROM prep_probe WHERE id = $1`, [1])));
      // A migration from elsewhere changes the columns that `SELECT *` returns.
      if (t.url) {
        const other = new pg.Client({ connectionString: t.url });
        await other.connect();
        await other.query(`ALTER TABLE prep_probe ADD COLUMN b int DEFAULT 7`);
        await other.end();
      } else {
        await t.db.exec(`ALTER TABLE prep_probe ADD COLUMN b int DEFAULT 7`);
      }
      const rows = await Promise.all(Array.from({ length: 30 }, () => t.db.query<{ b: number }>(`SELECT * FROM prep_probe WHERE id = $1`, [1])));
      for (const r of rows) assert.equal(r.rows[0]?.b, 7);
    } finally {
      await t.drop();
    }
  });
}
