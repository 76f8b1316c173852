/**
 * @module store/postgres/queries/release-lease
 * -- Params: $1 lease name, $2 holder, $3 term.
 * -- Contract: a holder resigning (graceful shutdown) deletes its own lease so another node can take it at
 * --           once instead of waiting for expiry; a stale term deletes nothing.
 */
export const RELEASE_LEASE = {
  name: 'ob_release_lease',
  text: 'DELETE FROM leases WHERE name = $1 AND holder = $2 AND term::text = $3',
};
