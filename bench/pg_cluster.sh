#!/usr/bin/env bash
# A PostgreSQL cluster for the benches (Debian's postgresql-common): "bench" on port 5433,
# Debian's defaults plus the settings below, fsync ON (a throw-away test cluster turns it off;
# the targets are for a server that keeps its data).  Run as root; the server runs as the
# postgres user.  Prints the URL of an empty database for bench/scale.py --pg and one for
# --import-pg.  Idempotent: an existing cluster is started and reconfigured, its databases kept.
#
#   bash bench/pg_cluster.sh            # create / start, print the URLs
#   bash bench/pg_cluster.sh drop       # stop and remove the cluster
set -euo pipefail
VER=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
[ -n "$VER" ] || { echo "PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2; exit 2; }
PORT=5433
if [ "${1:-}" = drop ]; then
    pg_dropcluster --stop "$VER" bench
    exit 0
fi
pg_lsclusters -h | awk -v v="$VER" '$1==v && $2=="bench"' | grep -q . || pg_createcluster "$VER" bench --port "$PORT" >/dev/null
conf=/etc/postgresql/$VER/bench/conf.d/dangjian-bench.conf
# the listed set (for a 2-core, 24 GB machine); everything else is Debian's default
cat > "$conf" <<'CONF'
shared_buffers = 4GB
effective_cache_size = 16GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 8GB
checkpoint_completion_target = 0.9
random_page_cost = 1.1
fsync = on
synchronous_commit = on
full_page_writes = on
CONF
pg_ctlcluster "$VER" bench restart 2>/dev/null || pg_ctlcluster "$VER" bench start
psql_() { su postgres -s /bin/sh -c "psql -p $PORT -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
psql_ "SELECT 1 FROM pg_roles WHERE rolname='dangjian_bench'" | grep -q 1 \
    || psql_ "CREATE ROLE dangjian_bench LOGIN PASSWORD 'dangjian_bench'"
for db in dangjian_bench dangjian_bench_import; do
    psql_ "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 || psql_ "CREATE DATABASE $db OWNER dangjian_bench"
done
echo "--pg postgresql://dangjian_bench:dangjian_bench@127.0.0.1:$PORT/dangjian_bench"
echo "--import-pg postgresql://dangjian_bench:dangjian_bench@127.0.0.1:$PORT/dangjian_bench_import"
