#!/usr/bin/env bash
# Make sure PostgreSQL, RabbitMQ and Redis answer on their local ports.
# On a Debian machine where we are root, a missing server is installed and a stopped one started;
# elsewhere the script says exactly what is missing and how to get it, and fails.
set -uo pipefail

PG_PORT=${PG_PORT:-5432}
AMQP_PORT=${AMQP_PORT:-5672}
REDIS_PORT=${REDIS_PORT:-6379}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 90); do listening "$1" && return 0; sleep 1; done
  echo "ensure-servers: $2 did not come up on port $1" >&2; return 1
}

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

apt_updated=""
install_pkg() {
  if ! can_install; then
    echo "ensure-servers: $1 is not installed. Install it (Debian: sudo apt-get install $1) or point the URLs at a running server." >&2
    return 1
  fi
  [ -n "$apt_updated" ] || { DEBIAN_FRONTEND=noninteractive apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  listening "$PG_PORT" && return 0
  command -v pg_ctlcluster >/dev/null || install_pkg postgresql || return 1
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  # Local trust auth for the postgres user on loopback, as the development defaults expect.
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if [ -w "$hba" ] && ! grep -q "127.0.0.1/32 *trust" "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port "$PG_PORT" PostgreSQL
}

ensure_rabbitmq() {
  listening "$AMQP_PORT" && return 0
  command -v rabbitmq-server >/dev/null || install_pkg rabbitmq-server || return 1
  rabbitmq-server -detached || true
  wait_port "$AMQP_PORT" RabbitMQ && rabbitmqctl -q await_startup
}

ensure_redis() {
  listening "$REDIS_PORT" && return 0
  command -v redis-server >/dev/null || install_pkg redis-server || return 1
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no
  wait_port "$REDIS_PORT" Redis
}

status=0
ensure_postgres || status=1
ensure_rabbitmq || status=1
ensure_redis || status=1
exit $status
