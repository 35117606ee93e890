# Shared by scripts/demo and scripts/test: a virtualenv with the package, and
# the machine services the tests talk to. Source it; do not run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SOCKPUB_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31mxx> %s\033[0m\n' "$*" >&2; exit 1; }

# ensure_venv [EXTRAS]: create .venv and install the package with those extras,
# again only when setup.cfg changed since the last install.
ensure_venv() {
  local extras="${1:-}" stamp="$VENV/.sockpub-installed-${1:-base}"
  if [ ! -x "$PY" ]; then
    say "creating virtualenv $VENV"
    command -v python3 >/dev/null || die "python3 is missing: install Python 3.10 or newer"
    python3 -m venv "$VENV"
    "$PY" -m pip install --quiet --upgrade pip
  fi
  if [ ! -f "$stamp" ] || [ "$ROOT/setup.cfg" -nt "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    say "installing flask_sockpub${extras:+[$extras]} into $VENV"
    "$PY" -m pip install --quiet --disable-pip-version-check -e "$ROOT${extras:+[$extras]}"
    touch "$stamp"
  fi
}

# ensure_min_venv: a small venv (.venv-min) holding exactly the minimum
# versions setup.cfg declares in install_requires, plus pytest, for the
# internals tests. Rebuilt when setup.cfg changes.
MIN_VENV="${SOCKPUB_MIN_VENV:-$ROOT/.venv-min}"
ensure_min_venv() {
  local stamp="$MIN_VENV/.sockpub-min-installed"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$ROOT/setup.cfg" ]; then return 0; fi
  say "creating $MIN_VENV with the minimum declared versions"
  rm -rf "$MIN_VENV"
  local pins
  pins=$(sed -n '/^install_requires =/,/^[^ #]/p' "$ROOT/setup.cfg" | sed -n 's/^ *\([A-Za-z0-9_.-]*\)>=\([0-9.]*\) *$/\1==\2/p')
  [ -n "$pins" ] || die "no minimum versions found in setup.cfg's install_requires"
  # uv (in the test extra) installs in seconds what pip takes a minute for.
  # shellcheck disable=SC2086
  if [ -x "$VENV/bin/uv" ]; then
    "$VENV/bin/uv" venv --quiet --python python3 "$MIN_VENV" \
      && "$VENV/bin/uv" pip install --quiet --python "$MIN_VENV/bin/python" $pins pytest
  else
    python3 -m venv "$MIN_VENV" \
      && "$MIN_VENV/bin/python" -m pip install --quiet --disable-pip-version-check $pins pytest
  fi || die "could not install the minimum versions: $pins"
  touch "$stamp"
}

# as_root CMD...: run a command as root (directly, or through sudo).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $* (no sudo here)"
  fi
}

apt_install() {
  say "installing $* with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null \
    || { as_root apt-get update >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null; } \
    || die "could not install $* with apt-get"
}

port_open() { "$PY" - "$1" <<'PYEOF'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
except OSError:
    sys.exit(1)
PYEOF
}

wait_for_port() {  # wait_for_port PORT NAME [SECONDS]
  for _ in $(seq 1 $((${3:-30} * 2))); do port_open "$1" && return 0; sleep 0.5; done
  die "$2 is not answering on 127.0.0.1:$1"
}

ensure_redis() {
  port_open 6379 && return 0
  command -v redis-server >/dev/null || apt_install redis-server
  say "starting Redis on 127.0.0.1:6379"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for_port 6379 Redis
}

# RabbitMQ, for the cluster tests on AMQP (guest/guest on 127.0.0.1:5672).
ensure_rabbitmq() {
  port_open 5672 && return 0
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  say "starting RabbitMQ on 127.0.0.1:5672"
  as_root rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_for_port 5672 RabbitMQ 120  # the Erlang VM takes a while to boot
}

ensure_postgres() {
  port_open 5432 && return 0
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  say "starting PostgreSQL on 127.0.0.1:5432"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  wait_for_port 5432 PostgreSQL
}

ensure_mariadb() {
  port_open 3306 && return 0
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server
  say "starting MariaDB on 127.0.0.1:3306"
  as_root mkdir -p /run/mysqld
  as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  wait_for_port 3306 MariaDB
}

# Debian's Chromium, which the browser tests drive through Playwright (never a
# browser download).
ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

ensure_node_modules() {
  command -v node >/dev/null || die "node is missing: install Node.js 18 or newer"
  command -v npm >/dev/null || die "npm is missing: install npm"
  local stamp="$ROOT/node_modules/.sockpub-installed"
  if [ ! -f "$stamp" ] || [ "$ROOT/package-lock.json" -nt "$stamp" ]; then
    say "installing JavaScript packages (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
}

# ensure_sdk: build the browser SDK (flask_sockpub/static/dist/sockpub.js, never
# committed) from flask_sockpub/static/src and the npm packages. esbuild takes
# well under a second, so it is simply run every time.
ensure_sdk() {
  ensure_node_modules
  say "building the browser SDK (npm run build)"
  (cd "$ROOT" && npm run build --silent)
}
