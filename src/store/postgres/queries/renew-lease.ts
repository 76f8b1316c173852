/**
 * @module store/postgres/queries/renew-lease
 * -- Params: $1 lease name, $2 holder, $3 term, $4 ttl ms.
 * -- Contract: extends the lease only if $2 still holds it with term $3 and it has not expired on the
 * --           database clock; a deposed or expired holder gets 0 rows and must stop acting as leader.
 */
export const RENEW_LEASE = {
  name: 'ob_renew_lease',
  text: `UPDATE leases SET expires_at = now() + $4::int8 * interval '1 millisecond'
WHERE name = $1 AND holder = $2 AND term::text = $3 AND expires_at >= now()`,
};
