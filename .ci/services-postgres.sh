#!/usr/bin/env bash
# PostgreSQL for the store tests (src/store/postgres/postgres-store.test.ts starts its own throw-away
# server from initdb/pg_ctl; nothing here starts a server). On a fresh Debian machine the binaries come
# from the `postgresql` package (bookworm: postgresql-15 in /usr/lib/postgresql/15/bin, which the test
# helper finds without PATH changes). Source it from .ci/run (or .ci/services.sh), or run it directly.
# After sourcing, OPENBATCH_REQUIRE_POSTGRES=1 makes a missing server a test failure, not a skip.

ob_have_postgres() {
  { command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; } ||
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

if ! ob_have_postgres; then
  export DEBIAN_FRONTEND=noninteractive
  # Don't let the package create and start its own "main" cluster; the tests make their own.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/openbatch-ci.conf
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

# initdb refuses to run as root: the helper runs it as `postgres` (the package creates that user).
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi

ob_have_postgres || { echo "PostgreSQL binaries still missing after install" >&2; false; }
export OPENBATCH_REQUIRE_POSTGRES=1
