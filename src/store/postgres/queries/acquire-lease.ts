/**
 * @module store/postgres/queries/acquire-lease
 * -- Params: $1 lease name, $2 holder, $3 ttl ms.
 * -- Contract: one statement, database clock. Free or expired lease → taken with a NEW uuid term;
 * --           held (unexpired) by $2 → same term, expiry pushed to now()+ttl; held by someone else →
 * --           no row. Two racing acquirers serialise on the row lock: exactly one gets a row.
 */
export const ACQUIRE_LEASE = {
  name: 'ob_acquire_lease',
  text: `INSERT INTO leases AS l (name, holder, term, elected_at, expires_at)
VALUES ($1, $2, gen_random_uuid(), now(), now() + $3::int8 * interval '1 millisecond')
ON CONFLICT (name) DO UPDATE SET
  holder = excluded.holder,
  term = CASE WHEN l.holder = excluded.holder AND l.expires_at >= now() THEN l.term ELSE excluded.term END,
  elected_at = CASE WHEN l.holder = excluded.holder AND l.expires_at >= now() THEN l.elected_at ELSE now() END,
  expires_at = excluded.expires_at
WHERE l.expires_at < now() OR l.holder = excluded.holder
RETURNING holder, term::text AS term, (extract(epoch FROM expires_at) * 1000)::int8 AS expires_at`,
};
