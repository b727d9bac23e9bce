#!/usr/bin/env bash
# Local PostgreSQL and Redis for development and tests, kept under the project's
# .dev/ folder and never the system-wide clusters or services.
#
#   scripts/services.sh up [postgres|redis]      install if missing, start (or reuse), wait until ready
#   scripts/services.sh install [TOOL...]        install the servers and the tests' tools (PDF, Chromium,
#                                                Node.js for make lint) if missing; or only the TOOLs named
#                                                (postgres redis pdf-tools browser node)
#   scripts/services.sh down [postgres|redis]    stop the servers this checkout runs
#   scripts/services.sh env                      print export lines for eval
#   scripts/services.sh status                   say what runs where
#   scripts/services.sh running postgres|redis   exit 0 when this checkout's server runs
#   scripts/services.sh psql [args...]           psql on DATABASE_URL
#   scripts/services.sh clean                    down, then delete all server data
#
# Environment:
#   DATABASE_URL, REDIS_URL   when set, that service is the user's own: not started, not stopped
#   DEV_PG_PORT               PostgreSQL port (54329)
#   DEV_REDIS_PORT            Redis port (63799)
#   DEV_WAIT_TIMEOUT          seconds to wait for a server to accept connections (60)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DEV_DIR="$ROOT/.dev"
PG_PORT=${DEV_PG_PORT:-54329}
REDIS_PORT=${DEV_REDIS_PORT:-63799}
WAIT_TIMEOUT=${DEV_WAIT_TIMEOUT:-60}
# PostgreSQL refuses to run as root: as root the cluster belongs to the postgres
# user; anyone else runs it as themselves.
if [[ $(id -u) -eq 0 ]]; then
	PG_USER=postgres
else
	PG_USER=$(id -un)
fi
DB_NAME=gateway
DB_ROLE=gateway
REDIS_DIR="$DEV_DIR/redis"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

OUR_DATABASE_URL="postgres://$DB_ROLE@127.0.0.1:$PG_PORT/$DB_NAME?sslmode=disable"
OUR_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# as_pg CMD... runs CMD as the user that owns the cluster.
as_pg() {
	if [[ $(id -u) -eq 0 ]]; then
		# From /, as the working directory may be closed to that user.
		(cd / && runuser -u "$PG_USER" -- "$@")
	else
		"$@"
	fi
}

say() { printf 'services: %s\n' "$*" >&2; }
die() {
	printf 'services: error: %s\n' "$*" >&2
	exit 1
}

# --- where PostgreSQL keeps its files ------------------------------------------

# PostgreSQL runs as the postgres user, so its files must sit where that user can
# reach them. The project's .dev/pg is preferred; when postgres cannot traverse the
# project path, a per-checkout folder under /var/tmp is used instead. Permissions
# of the project's ancestors are never changed.
pg_base_dir() {
	if [[ $(id -u) -ne 0 ]] || { id -u "$PG_USER" >/dev/null 2>&1 && as_pg test -x "$ROOT"; }; then
		printf '%s\n' "$DEV_DIR/pg"
	else
		local hash
		hash=$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)
		printf '%s\n' "/var/tmp/citizenpay-dev-$hash"
	fi
}

set_pg_paths() {
	PG_BASE=$(pg_base_dir)
	PG_DATA="$PG_BASE/data"
	PG_RUN="$PG_BASE/run"
	PG_LOG_DIR="$PG_BASE/log"
	PG_LOG="$PG_LOG_DIR/postgresql.log"
	# A Unix socket path is limited to 107 bytes; a deep checkout falls back to
	# a short folder for the socket only.
	if ((${#PG_RUN} + 20 > 100)); then
		PG_RUN="/tmp/citizenpay-pg-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
	fi
}

# Newest PostgreSQL under /usr/lib/postgresql/*/bin; empty when none is installed.
find_pg_bin() {
	local dir best="" bestv=0 v
	for dir in /usr/lib/postgresql/*/bin; do
		[[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" && -x "$dir/psql" && -x "$dir/pg_isready" ]] || continue
		v=$(basename "$(dirname "$dir")")
		[[ "$v" =~ ^[0-9]+$ ]] || continue
		if ((v > bestv)); then
			bestv=$v
			best=$dir
		fi
	done
	printf '%s\n' "$best"
}

# --- installation --------------------------------------------------------------

# install_packages PKG... installs Debian packages without starting the system
# services that their maintainer scripts would otherwise start.
install_packages() {
	(($# > 0)) || return 0
	[[ $(id -u) -eq 0 ]] || die "packages $* are missing and installing them needs root (apt-get install $*)"
	command -v apt-get >/dev/null || die "packages $* are missing and apt-get is not available"
	say "installing $* with apt-get"
	local policy=/usr/sbin/policy-rc.d made_policy=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=1
		# shellcheck disable=SC2064
		trap "rm -f '$policy'" EXIT
	fi
	apt-get update -q >&2 || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
		die "apt-get install $* failed"
	if ((made_policy)); then
		rm -f "$policy"
		trap - EXIT
	fi
}

# node_recent reports whether node is one Redocly CLI 2 runs on (its engines:
# >=20.19 <21, or >=22.12).
node_recent() {
	local v major minor
	v=$(node --version 2>/dev/null) || return 1
	v=${v#v}
	major=${v%%.*}
	minor=${v#*.}
	minor=${minor%%.*}
	((major == 20 && minor >= 19 || major == 22 && minor >= 12 || major > 22))
}

# ensure_installed [postgres] [redis] [pdf-tools] [browser] [node] installs whatever of
# the named servers and tools is missing. pdf-tools are what the receipt tests
# read PDFs with; browser is the headless Chromium the checkout's browser tests
# drive, with a font that has Vietnamese glyphs for its pages and screenshots;
# node is Node.js with npm and npx, which make lint runs Redocly CLI with.
ensure_installed() {
	local want pkgs=()
	for want in "$@"; do
		case $want in
		postgres) [[ -n $(find_pg_bin) ]] || pkgs+=(postgresql) ;;
		redis) command -v redis-server >/dev/null && command -v redis-cli >/dev/null || pkgs+=(redis-server) ;;
		pdf-tools)
			command -v pdftotext >/dev/null && command -v pdfimages >/dev/null || pkgs+=(poppler-utils)
			command -v zbarimg >/dev/null || pkgs+=(zbar-tools)
			;;
		browser)
			[[ -n $(find_chromium) ]] || pkgs+=(chromium)
			[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || pkgs+=(fonts-dejavu-core)
			;;
		node) command -v node >/dev/null && command -v npx >/dev/null || pkgs+=(nodejs npm) ;;
		*) die "unknown tool '$want' (postgres redis pdf-tools browser node)" ;;
		esac
	done
	install_packages "${pkgs[@]}"
	for want in "$@"; do
		case $want in
		postgres) [[ -n $(find_pg_bin) ]] || die "no PostgreSQL server under /usr/lib/postgresql/*/bin after installing" ;;
		redis) command -v redis-server >/dev/null || die "redis-server not found after installing" ;;
		browser) [[ -n $(find_chromium) ]] || die "chromium not found after installing" ;;
		node)
			command -v npx >/dev/null || die "npx not found after installing nodejs and npm"
			node_recent || die "Node.js $(node --version) is older than make lint's Redocly CLI needs (20.19 or later, or 22.12 or later); Debian 12's nodejs is 18: install a newer Node.js (Debian 13's, or NodeSource's)"
			;;
		esac
	done
}

# find_chromium prints the path of a Chromium the browser tests can drive, or
# nothing.
find_chromium() {
	local name
	for name in chromium chromium-browser; do
		if command -v "$name" >/dev/null; then
			command -v "$name"
			return 0
		fi
	done
}

# --- PostgreSQL ----------------------------------------------------------------


pg_running() {
	set_pg_paths
	local bin
	bin=$(find_pg_bin)
	[[ -n $bin && -f "$PG_DATA/PG_VERSION" ]] || return 1
	as_pg "$bin/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

# The port a running cluster listens on: line 4 of postmaster.pid.
pg_running_port() { sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null; }

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -t 2; }

pg_log_tail() {
	if [[ -f $PG_LOG ]]; then
		printf '%s\n' "--- last lines of $PG_LOG ---" >&2
		tail -n 20 "$PG_LOG" >&2
	fi
}

pg_initdb() {
	local major
	major=$(basename "$(dirname "$PG_BIN")")
	if [[ -f "$PG_DATA/PG_VERSION" ]]; then
		[[ $(cat "$PG_DATA/PG_VERSION") == "$major" ]] ||
			die "$PG_DATA holds a PostgreSQL $(cat "$PG_DATA/PG_VERSION") cluster but the server is $major: run 'scripts/services.sh clean' to start over"
		return 0
	fi
	say "creating a PostgreSQL $major cluster in $PG_DATA"
	rm -rf "$PG_DATA"
	as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --locale=C \
		--no-instructions >"$PG_LOG_DIR/initdb.log" 2>&1 ||
		{
			cat "$PG_LOG_DIR/initdb.log" >&2
			die "initdb failed"
		}
	# Our settings live in their own file, rewritten on every start.
	printf "\ninclude_if_exists = 'citizenpay-dev.conf'\n" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

pg_write_conf() {
	as_pg tee "$PG_DATA/citizenpay-dev.conf" >/dev/null <<EOF
# Written by scripts/services.sh on every start; edits here are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 300
shared_buffers = 256MB
# Durable like production: benchmarks depend on it.
fsync = on
synchronous_commit = on
full_page_writes = on
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

pg_sql() {
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tA "$@"
}

pg_ensure_database() {
	if [[ $(pg_sql -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE'") != 1 ]]; then
		say "creating role $DB_ROLE"
		pg_sql -c "CREATE ROLE $DB_ROLE LOGIN SUPERUSER"
	fi
	if [[ $(pg_sql -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'") != 1 ]]; then
		say "creating database $DB_NAME"
		pg_sql -c "CREATE DATABASE $DB_NAME OWNER $DB_ROLE"
	fi
}

# pg_up and redis_up expect their server installed (cmd_up sees to it).
pg_up() {
	PG_BIN=$(find_pg_bin)
	set_pg_paths
	id -u "$PG_USER" >/dev/null 2>&1 || die "the '$PG_USER' user does not exist (it comes with the postgresql package)"

	mkdir -p "$PG_BASE"
	if [[ $PG_BASE == "$DEV_DIR/pg" ]]; then
		# .dev itself stays root's; postgres only needs to pass through it.
		chmod 755 "$DEV_DIR"
	else
		say "PostgreSQL files are kept in $PG_BASE (the postgres user cannot reach $ROOT)"
	fi
	mkdir -p "$PG_RUN" "$PG_LOG_DIR"
	[[ $(id -u) -ne 0 ]] || chown "$PG_USER:" "$PG_BASE" "$PG_RUN" "$PG_LOG_DIR"
	chmod 700 "$PG_BASE"
	chmod 755 "$PG_RUN"

	pg_initdb

	if as_pg "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1; then
		local running_port
		running_port=$(pg_running_port)
		[[ $running_port == "$PG_PORT" ]] ||
			die "PostgreSQL in $PG_DATA already runs on port $running_port, not $PG_PORT: run 'scripts/services.sh down' first"
		say "PostgreSQL already running on 127.0.0.1:$PG_PORT (data in $PG_DATA)"
	else
		! port_open "$PG_PORT" ||
			die "port $PG_PORT already has a server that is not this checkout's: stop it or set DEV_PG_PORT"
		pg_write_conf
		say "starting PostgreSQL on 127.0.0.1:$PG_PORT (data in $PG_DATA, log in $PG_LOG)"
		if ! as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$WAIT_TIMEOUT" >/dev/null; then
			pg_log_tail
			die "PostgreSQL did not start (log above, from $PG_LOG)"
		fi
	fi

	local deadline=$((SECONDS + WAIT_TIMEOUT))
	until pg_ready; do
		if ((SECONDS >= deadline)); then
			pg_log_tail
			die "PostgreSQL on 127.0.0.1:$PG_PORT did not accept connections within ${WAIT_TIMEOUT}s"
		fi
		sleep 0.2
	done
	pg_ensure_database
}

pg_down() {
	local bin
	bin=$(find_pg_bin)
	set_pg_paths
	if [[ -z $bin || ! -f "$PG_DATA/PG_VERSION" ]]; then
		return 0
	fi
	if as_pg "$bin/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1; then
		say "stopping PostgreSQL ($PG_DATA)"
		as_pg "$bin/pg_ctl" stop -D "$PG_DATA" -m fast -w -t "$WAIT_TIMEOUT" >/dev/null ||
			die "PostgreSQL in $PG_DATA did not stop"
	fi
}

# --- Redis ---------------------------------------------------------------------

redis_ping() { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

# The pid of this checkout's Redis when it is alive.
redis_our_pid() {
	local pid
	[[ -f $REDIS_PIDFILE ]] || return 1
	pid=$(cat "$REDIS_PIDFILE")
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && printf '%s\n' "$pid"
}

redis_running() {
	command -v redis-cli >/dev/null || return 1
	redis_our_pid >/dev/null && redis_ping
}

redis_log_tail() {
	if [[ -f $REDIS_LOG ]]; then
		printf '%s\n' "--- last lines of $REDIS_LOG ---" >&2
		tail -n 20 "$REDIS_LOG" >&2
	fi
}

redis_up() {
	mkdir -p "$REDIS_DIR"
	if redis_ping; then
		if redis_our_pid >/dev/null; then
			say "Redis already running on 127.0.0.1:$REDIS_PORT"
		else
			say "warning: Redis on 127.0.0.1:$REDIS_PORT is not this checkout's; using it anyway"
		fi
		return 0
	fi
	if redis_our_pid >/dev/null; then
		die "Redis (pid $(redis_our_pid)) from $REDIS_PIDFILE runs but does not answer on port $REDIS_PORT: run 'scripts/services.sh down' first"
	fi
	rm -f "$REDIS_PIDFILE"
	say "starting Redis on 127.0.0.1:$REDIS_PORT (log in $REDIS_LOG)"
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
		--save '' --appendonly no --daemonize yes \
		--pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" ||
		{
			redis_log_tail
			die "redis-server failed to start"
		}
	local deadline=$((SECONDS + WAIT_TIMEOUT))
	until redis_ping; do
		if ((SECONDS >= deadline)); then
			redis_log_tail
			die "Redis on 127.0.0.1:$REDIS_PORT did not answer PING within ${WAIT_TIMEOUT}s"
		fi
		sleep 0.1
	done
}

redis_down() {
	local pid
	pid=$(redis_our_pid) || {
		rm -f "$REDIS_PIDFILE"
		return 0
	}
	say "stopping Redis (pid $pid)"
	if command -v redis-cli >/dev/null && redis_ping; then
		redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
	else
		kill -TERM "$pid" 2>/dev/null || true
	fi
	local deadline=$((SECONDS + WAIT_TIMEOUT))
	while kill -0 "$pid" 2>/dev/null; do
		((SECONDS < deadline)) || die "Redis (pid $pid) did not stop"
		sleep 0.1
	done
	rm -f "$REDIS_PIDFILE"
}

# --- commands ------------------------------------------------------------------

# The services to act on: the one named, or both; a service whose URL the user
# set is theirs and left alone by up.
SERVICES=()
select_services() {
	case ${1:-all} in
	postgres | pg) SERVICES=(postgres) ;;
	redis) SERVICES=(redis) ;;
	all) SERVICES=(postgres redis) ;;
	*) die "unknown service '$1' (postgres or redis)" ;;
	esac
}

cmd_up() {
	local s wanted=()
	select_services "${1:-all}"
	for s in "${SERVICES[@]}"; do
		case $s in
		postgres)
			if [[ -n ${DATABASE_URL:-} ]]; then
				say "DATABASE_URL is set: using that PostgreSQL"
			else
				wanted+=(postgres)
			fi
			;;
		redis)
			if [[ -n ${REDIS_URL:-} ]]; then
				say "REDIS_URL is set: using that Redis"
			else
				wanted+=(redis)
			fi
			;;
		esac
	done
	ensure_installed "${wanted[@]}" pdf-tools browser # one apt-get run for all that is missing
	for s in "${wanted[@]}"; do
		case $s in
		postgres) pg_up ;;
		redis) redis_up ;;
		esac
	done
}

cmd_down() {
	local s
	select_services "${1:-all}"
	for s in "${SERVICES[@]}"; do
		case $s in
		postgres) pg_down ;;
		redis) redis_down ;;
		esac
	done
}

# shell_quote WORD prints WORD in single quotes, for eval.
shell_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

cmd_env() {
	printf 'export DATABASE_URL=%s\n' "$(shell_quote "${DATABASE_URL:-$OUR_DATABASE_URL}")"
	printf 'export REDIS_URL=%s\n' "$(shell_quote "${REDIS_URL:-$OUR_REDIS_URL}")"
}

cmd_running() {
	case ${1:-} in
	postgres | pg) pg_running ;;
	redis) redis_running ;;
	*) die "usage: $0 running postgres|redis" ;;
	esac
}

cmd_status() {
	set_pg_paths
	if pg_running; then
		echo "postgres: running on 127.0.0.1:$(pg_running_port), data in $PG_DATA, log in $PG_LOG"
	else
		echo "postgres: stopped (data in $PG_DATA)"
	fi
	if redis_running; then
		echo "redis:    running on 127.0.0.1:$REDIS_PORT (pid $(redis_our_pid)), log in $REDIS_LOG"
	elif command -v redis-cli >/dev/null && redis_ping; then
		echo "redis:    port $REDIS_PORT answers, but not with this checkout's server"
	else
		echo "redis:    stopped"
	fi
	[[ -z ${DATABASE_URL:-} ]] || echo "DATABASE_URL is set: tests and run use it, not the server above"
	[[ -z ${REDIS_URL:-} ]] || echo "REDIS_URL is set: tests and run use it, not the server above"
	cmd_env
}

cmd_clean() {
	cmd_down
	set_pg_paths
	say "removing $PG_BASE and $REDIS_DIR"
	rm -rf "$PG_BASE" "$REDIS_DIR"
	[[ $PG_RUN == "$PG_BASE"/* ]] || rm -rf "$PG_RUN"
}

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

main() {
	local cmd=${1:-}
	shift || true
	case $cmd in
	up) cmd_up "$@" ;;
	install)
		if (($# > 0)); then
			ensure_installed "$@"
		else
			ensure_installed postgres redis pdf-tools browser node
		fi
		;;
	down | stop) cmd_down "$@" ;;
	env) cmd_env ;;
	status) cmd_status ;;
	running) cmd_running "$@" ;;
	psql)
		PG_BIN=$(find_pg_bin)
		exec "${PG_BIN:+$PG_BIN/}psql" "${DATABASE_URL:-$OUR_DATABASE_URL}" "$@"
		;;
	clean) cmd_clean ;;
	*) usage ;;
	esac
}

main "$@"
