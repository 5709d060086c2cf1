#!/usr/bin/env bash
# Makes sure the local Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432) the tests and
# the demo use are up, starting them if they are installed but stopped. A service that cannot
# be reached after this is an error: tests never skip silently because a store is missing.
set -euo pipefail

REDIS_HOST=${ZR_LOCAL_REDIS_HOST:-127.0.0.1}
REDIS_PORT=${ZR_LOCAL_REDIS_PORT:-6379}
PG_HOST=${ZR_LOCAL_PG_HOST:-127.0.0.1}
PG_PORT=${ZR_LOCAL_PG_PORT:-5432}

redis_up() { node -e "
  const s=require('net').connect($REDIS_PORT,'$REDIS_HOST');
  s.on('connect',()=>s.write('PING\r\n'));
  s.on('data',d=>{process.exit(String(d).startsWith('+PONG')?0:1)});
  s.on('error',()=>process.exit(1)); setTimeout(()=>process.exit(1),1000);" 2>/dev/null; }
pg_up() { node -e "
  const s=require('net').connect($PG_PORT,'$PG_HOST');
  s.on('connect',()=>process.exit(0)); s.on('error',()=>process.exit(1));
  setTimeout(()=>process.exit(1),1000);" 2>/dev/null; }

wait_for() { # name check
  for _ in $(seq 1 50); do "$2" && return 0; sleep 0.2; done
  return 1
}

if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "ensure-services: starting Redis on $REDIS_HOST:$REDIS_PORT" >&2
    mkdir -p /tmp/zeus-recover-redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir /tmp/zeus-recover-redis --logfile /tmp/zeus-recover-redis/redis.log >/dev/null
  fi
  wait_for redis redis_up || { echo "ensure-services: Redis is not reachable at $REDIS_HOST:$REDIS_PORT and could not be started (install redis-server, or start it yourself)" >&2; exit 1; }
fi

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "ensure-services: starting PostgreSQL on $PG_HOST:$PG_PORT" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start >&2 || true
  fi
  wait_for postgres pg_up || { echo "ensure-services: PostgreSQL is not reachable at $PG_HOST:$PG_PORT and could not be started (install postgresql, or start it yourself)" >&2; exit 1; }
fi
echo "ensure-services: Redis $REDIS_HOST:$REDIS_PORT and PostgreSQL $PG_HOST:$PG_PORT are up" >&2
