/**
 * @module store/postgres/queries/check-lease
 * -- Params: $1 lease name, $2 holder, $3 term.
 * -- Contract: the fencing check run first inside a fenced write transaction: a row means the lease is
 * --           still ours on the database clock; FOR SHARE blocks a competing acquirer from taking it over
 * --           until our transaction ends, so a deposed leader's writes can never commit after a takeover.
 */
export const CHECK_LEASE = {
  name: 'ob_check_lease',
  text: `SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND term::text = $3 AND expires_at >= now() FOR SHARE`,
};
