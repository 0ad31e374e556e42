import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/db.ts';
import { ApiError } from '../domain/errors.ts';
import { dummyPasswordHash, generatePassword, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import { ROLES, type Realm, type Role } from './rbac.ts';

export interface ConsoleUser {
  id: number;
  realm: Realm;
  username: string;
  mchNo: string | null;
  role: Role;
  state: number;
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
  createdAt: Date;
}

export interface ConsoleSession {
  user: ConsoleUser;
  csrfToken: string;
}

export interface AccountPolicy {
  /** Consecutive wrong passwords that lock an account. */
  maxFailedLogins: number;
  lockoutSeconds: number;
  /** A session ends after this long without a request … */
  sessionIdleSeconds: number;
  /** … and after this long in any case. */
  sessionMaxSeconds: number;
}

export const DEFAULT_ACCOUNT_POLICY: AccountPolicy = { maxFailedLogins: 5, lockoutSeconds: 900, sessionIdleSeconds: 1800, sessionMaxSeconds: 12 * 3600 };

const USER_COLUMNS = `u.id, u.realm, u.username, u.mch_no AS "mchNo", u.role, u.state, u.locked_until AS "lockedUntil", u.last_login_at AS "lastLoginAt", u.created_at AS "createdAt"`;
const USERNAME = /^[0-9A-Za-z_.@-]{2,64}$/;

const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Console users and sessions for both realms. Operators see every merchant; a merchant user
 * belongs to one merchant (a CHECK in the schema). Sessions are random tokens kept in a cookie;
 * only their SHA-256 is stored. Role and state are read from the user row on every request, so a
 * demotion or a disabled account takes effect at once.
 */
export class ConsoleAccounts {
  readonly #db: Db;
  readonly #policy: AccountPolicy;

  constructor(db: Db, policy: AccountPolicy = DEFAULT_ACCOUNT_POLICY) {
    this.#db = db;
    this.#policy = policy;
  }

  get policy(): AccountPolicy {
    return this.#policy;
  }

  async createUser(input: { realm: Realm; username: string; role: Role; mchNo?: string | null; password?: string }): Promise<{ user: ConsoleUser; password: string }> {
    if (!USERNAME.test(input.username)) throw new ApiError('PARAM_INVALID', 'username must be 2–64 characters of letters, digits and _ . @ -');
    if (!ROLES.includes(input.role)) throw new ApiError('PARAM_INVALID', `role must be one of ${ROLES.join(', ')}`);
    const mchNo = input.realm === 'merchant' ? input.mchNo : null;
    if (input.realm === 'merchant' && !mchNo) throw new ApiError('PARAM_INVALID', 'a merchant user needs its merchant');
    if (mchNo && (await this.#db.query(`SELECT 1 FROM merchants WHERE mch_no = $1`, [mchNo])).rows.length === 0) throw new ApiError('NOT_FOUND', `merchant ${mchNo}`);
    const password = input.password ?? generatePassword();
    const problem = passwordProblem(password);
    if (problem) throw new ApiError('PARAM_INVALID', problem);
    const r = await this.#db.query<ConsoleUser>(
      `INSERT INTO console_users AS u (realm, username, mch_no, role, password_hash) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (realm, username) DO NOTHING RETURNING ${USER_COLUMNS}`,
      [input.realm, input.username, mchNo ?? null, input.role, await hashPassword(password)],
    );
    if (!r.rows[0]) throw new ApiError('PARAM_INVALID', `user name ${input.username} is taken`);
    return { user: r.rows[0], password };
  }

  /** `mchNo` limits the list (and every write below) to one merchant's users. */
  async listUsers(realm: Realm, mchNo?: string | null): Promise<ConsoleUser[]> {
    const r = await this.#db.query<ConsoleUser>(`SELECT ${USER_COLUMNS} FROM console_users u WHERE u.realm = $1 AND ($2::text IS NULL OR u.mch_no = $2) ORDER BY u.id`, [realm, mchNo ?? null]);
    return r.rows;
  }

  async getUser(realm: Realm, id: number, mchNo?: string | null): Promise<ConsoleUser> {
    const r = await this.#db.query<ConsoleUser>(`SELECT ${USER_COLUMNS} FROM console_users u WHERE u.id = $1 AND u.realm = $2 AND ($3::text IS NULL OR u.mch_no = $3)`, [id, realm, mchNo ?? null]);
    if (!r.rows[0]) throw new ApiError('NOT_FOUND', `user ${id}`);
    return r.rows[0];
  }

  async updateUser(realm: Realm, id: number, patch: { role?: Role; state?: number }, mchNo?: string | null): Promise<ConsoleUser> {
    if (patch.role !== undefined && !ROLES.includes(patch.role)) throw new ApiError('PARAM_INVALID', `role must be one of ${ROLES.join(', ')}`);
    if (patch.state !== undefined && patch.state !== 0 && patch.state !== 1) throw new ApiError('PARAM_INVALID', 'state must be 0 or 1');
    const before = await this.getUser(realm, id, mchNo);
    const demotesLastAdmin = before.role === 'admin' && before.state === 1 && ((patch.role !== undefined && patch.role !== 'admin') || patch.state === 0);
    if (demotesLastAdmin && (await this.#activeAdmins(realm, before.mchNo)) <= 1) throw new ApiError('PARAM_INVALID', 'this is the last active admin; make another admin first');
    const r = await this.#db.query<ConsoleUser>(
      `UPDATE console_users u SET role = COALESCE($2, role), state = COALESCE($3, state), locked_until = CASE WHEN $3::int = 1 THEN NULL ELSE locked_until END,
              failed_attempts = CASE WHEN $3::int = 1 THEN 0 ELSE failed_attempts END
        WHERE id = $1 RETURNING ${USER_COLUMNS}`,
      [id, patch.role ?? null, patch.state ?? null],
    );
    if (patch.state === 0) await this.#db.query(`DELETE FROM console_sessions WHERE user_id = $1`, [id]);
    return r.rows[0] as ConsoleUser;
  }

  /** A new generated password (shown once); the user's sessions end and a lockout is lifted. */
  async resetPassword(realm: Realm, id: number, mchNo?: string | null, password = generatePassword()): Promise<string> {
    await this.getUser(realm, id, mchNo);
    await this.#setPassword(id, password);
    return password;
  }

  async changeOwnPassword(user: ConsoleUser, current: string, next: string): Promise<void> {
    const r = await this.#db.query<{ password_hash: string }>(`SELECT password_hash FROM console_users WHERE id = $1`, [user.id]);
    if (!r.rows[0] || !(await verifyPassword(current, r.rows[0].password_hash))) throw new ApiError('LOGIN_FAILED', 'the current password is wrong');
    await this.#setPassword(user.id, next);
  }

  async #setPassword(id: number, password: string): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new ApiError('PARAM_INVALID', problem);
    await this.#db.query(`UPDATE console_users SET password_hash = $2, failed_attempts = 0, locked_until = NULL WHERE id = $1`, [id, await hashPassword(password)]);
    await this.#db.query(`DELETE FROM console_sessions WHERE user_id = $1`, [id]);
  }

  async #activeAdmins(realm: Realm, mchNo: string | null): Promise<number> {
    const r = await this.#db.query<{ n: number }>(`SELECT count(*)::int AS n FROM console_users WHERE realm = $1 AND role = 'admin' AND state = 1 AND mch_no IS NOT DISTINCT FROM $2`, [realm, mchNo]);
    return r.rows[0]?.n ?? 0;
  }

  /**
   * Checks a password. After `maxFailedLogins` consecutive failures the account is locked for
   * `lockoutSeconds`, whatever password comes next; a success resets the count.
   */
  async signIn(realm: Realm, username: string, password: string): Promise<{ token: string; session: ConsoleSession }> {
    const r = await this.#db.query<ConsoleUser & { passwordHash: string; merchantState: number | null }>(
      `SELECT ${USER_COLUMNS}, u.password_hash AS "passwordHash", m.state AS "merchantState"
         FROM console_users u LEFT JOIN merchants m ON m.mch_no = u.mch_no WHERE u.realm = $1 AND u.username = $2`,
      [realm, username],
    );
    const row = r.rows[0];
    if (!row) {
      await verifyPassword(password, await dummyPasswordHash());
      throw new ApiError('LOGIN_FAILED');
    }
    if (row.lockedUntil && row.lockedUntil.getTime() > Date.now()) throw new ApiError('ACCOUNT_LOCKED', `try again after ${row.lockedUntil.toISOString()} or ask an admin to reset the password`);
    if (!(await verifyPassword(password, row.passwordHash))) {
      const p = this.#policy;
      // A lock that has run out starts a fresh count.
      await this.#db.query(
        `UPDATE console_users SET failed_attempts = CASE WHEN locked_until IS NOT NULL AND locked_until <= now() THEN 1 ELSE failed_attempts + 1 END,
                locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= now() THEN 1 ELSE failed_attempts + 1 END) >= $2
                                    THEN now() + make_interval(secs => $3) ELSE NULL END
          WHERE id = $1`,
        [row.id, p.maxFailedLogins, p.lockoutSeconds],
      );
      throw new ApiError('LOGIN_FAILED');
    }
    if (row.state !== 1 || (row.realm === 'merchant' && row.merchantState !== 1)) throw new ApiError('LOGIN_FAILED', 'the account is disabled');
    await this.#db.query(`UPDATE console_users SET failed_attempts = 0, locked_until = NULL, last_login_at = now() WHERE id = $1`, [row.id]);
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    await this.#db.query(`INSERT INTO console_sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))`, [tokenHash(token), row.id, csrfToken, this.#policy.sessionIdleSeconds]);
    const { passwordHash: _h, merchantState: _m, ...user } = row;
    return { token, session: { user, csrfToken } };
  }

  /** The live session of a cookie token in this realm, extended on use (sliding idle timeout, absolute cap). */
  async session(realm: Realm, token: string | undefined): Promise<ConsoleSession | null> {
    if (!token || token.length > 128) return null;
    const hash = tokenHash(token);
    const r = await this.#db.query<ConsoleUser & { csrfToken: string; lastSeenAt: Date }>(
      `SELECT ${USER_COLUMNS}, s.csrf_token AS "csrfToken", s.last_seen_at AS "lastSeenAt"
         FROM console_sessions s JOIN console_users u ON u.id = s.user_id LEFT JOIN merchants m ON m.mch_no = u.mch_no
        WHERE s.token_hash = $1 AND s.expires_at > now() AND s.created_at > now() - make_interval(secs => $3)
          AND u.realm = $2 AND u.state = 1 AND (u.realm = 'operator' OR m.state = 1)`,
      [hash, realm, this.#policy.sessionMaxSeconds],
    );
    const row = r.rows[0];
    if (!row) return null;
    // One write a minute at most: the idle clock does not need to-the-second precision.
    if (Date.now() - row.lastSeenAt.getTime() > 60_000) {
      await this.#db.query(`UPDATE console_sessions SET last_seen_at = now(), expires_at = now() + make_interval(secs => $2) WHERE token_hash = $1`, [hash, this.#policy.sessionIdleSeconds]);
    }
    const { csrfToken, lastSeenAt: _l, ...user } = row;
    return { user, csrfToken };
  }

  async signOut(token: string): Promise<void> {
    await this.#db.query(`DELETE FROM console_sessions WHERE token_hash = $1 OR expires_at < now() - interval '1 day'`, [tokenHash(token)]);
  }

  /** The first operator admin, created when no operator exists yet; its password is returned once (for the banner). */
  async ensureFirstAdmin(username = 'admin'): Promise<{ username: string; password: string } | null> {
    const any = await this.#db.query(`SELECT 1 FROM console_users WHERE realm = 'operator' LIMIT 1`);
    if (any.rows.length > 0) return null;
    try {
      const { password } = await this.createUser({ realm: 'operator', username, role: 'admin' });
      return { username, password };
    } catch (err) {
      if (err instanceof ApiError && err.key === 'PARAM_INVALID') return null; // another process created it first
      throw err;
    }
  }

  async audit(session: ConsoleSession, action: string, target: string | null, outcome: number): Promise<void> {
    await this.#db.query(`INSERT INTO console_audit (realm, user_id, username, mch_no, action, target, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      session.user.realm, session.user.id, session.user.username, session.user.mchNo, action, target, outcome,
    ]);
  }
}
