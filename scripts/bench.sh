#!/usr/bin/env bash
# make bench: the gateway's hot paths measured against this machine's own limits
# (issue 6). On one machine it brings up PostgreSQL and Redis (scripts/services.sh),
# a fresh bench database, two sandbox banks in instant-callback mode and the gateway
# (built binaries), then:
#   1. ceilings: `loadgen ceilings` runs the gateway's own create and clearing
#      transactions (its Go code, no HTTP) on a scratch database at a concurrency
#      equal to the gateway's pool, the create's writes in one pipelined round trip
#      (create-pipelined), and the idempotency script (EVALSHA) in Redis;
#   2. cmd/loadgen drives open-loop, constant-rate scenarios and prints a Markdown
#      table with each scenario's ratio to its ceiling and the CPU milliseconds per
#      request of the gateway, PostgreSQL, Redis and loadgen itself (from /proc,
#      each process with its descendants, over the measured window); JSON and a
#      PNG chart go to bench-results/ (ignored by git);
#   3. gatewayctl verify checks the books after the run.
#
# Knobs (environment or make variables):
#   SHORT=1          a quick run: short scenarios, finishing in about two minutes
#   RATE=N           offered rate of every scenario (default: from the ceilings and targets)
#   RATE_CREATE, RATE_REPLAY, RATE_CLEAR, RATE_FLOW, RATE_READ, RATE_MIXED   one scenario's rate
#   DURATION=30s     each scenario's duration, warm-up included (SHORT: 6s)
#   MIXED_DURATION   the mixed soak's duration (default 5m; SHORT: 10s)
#   WARMUP=5s        trimmed from each scenario's start (SHORT: 1s)
#   SCENARIOS=create,replay,clear,flow,mixed,overload,read,bank-down
#   CEILING_SECONDS  how long each ceiling is measured (default 15; SHORT: 4)
#   DATABASE_MAX_CONNS=32   the gateway's pool, and the ceilings' concurrency
#   BENCH_PORTAL_RPS=100000 the bench portal's rate limit (RATE_LIMIT_PORTAL_RPS)
#   BENCH_CITIZEN_RPS=0     the bench citizens' rate limit (RATE_LIMIT_CITIZEN_RPS; 0: none, as each pays many fees)
#   GATEWAY_ENV_EXTRA="K=V …"  extra settings for the gateway under test
#   BENCH_DATABASE=gateway_bench  the bench's database (dropped and made anew); the
#                    ceilings' scratch one is ${BENCH_DATABASE}_ceiling
#   BENCH_REDIS_DB=1 the gateway's Redis database (emptied); the ceilings' script keys
#                    go to the next one, under a prefix of their own
#   BENCH_PORT=18080 the gateway's port; the sandbox banks take +12 and +14, the
#                    webhook receiver +13 and the operations listener +15
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH
SERVICES=scripts/services.sh
WORK=.bench
LOG_DIR=$WORK/log
OUT=bench-results

SHORT=${SHORT:-}
if [[ -n $SHORT && $SHORT != 0 ]]; then
	DURATION=${DURATION:-6s}
	MIXED_DURATION=${MIXED_DURATION:-10s}
	WARMUP=${WARMUP:-1s}
	CEILING_SECONDS=${CEILING_SECONDS:-4}
	MODE=short
else
	DURATION=${DURATION:-30s}
	MIXED_DURATION=${MIXED_DURATION:-5m}
	WARMUP=${WARMUP:-5s}
	CEILING_SECONDS=${CEILING_SECONDS:-15}
	MODE=full
fi
SCENARIOS=${SCENARIOS:-create,replay,clear,flow,mixed,overload,read,bank-down}
POOL=${DATABASE_MAX_CONNS:-32}
BENCH_DATABASE=${BENCH_DATABASE:-gateway_bench}
BENCH_REDIS_DB=${BENCH_REDIS_DB:-1}
GATEWAY_PORT=${BENCH_PORT:-18080}
OPS_PORT=$((GATEWAY_PORT + 15))
WEBHOOK_ADDR=127.0.0.1:$((GATEWAY_PORT + 13))
BANKS=(SBX SB2)
declare -A BANK_PORT=([SBX]=$((GATEWAY_PORT + 12)) [SB2]=$((GATEWAY_PORT + 14)))

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	printf 'bench: error: %s\n' "$*" >&2
	exit 1
}

# --- processes stopped on exit ---------------------------------------------------

BG_NAMES=()
BG_PIDS=()
start_bg() {
	local name=$1
	shift
	"$@" >"$LOG_DIR/$name.log" 2>&1 &
	BG_NAMES+=("$name")
	BG_PIDS+=("$!")
}
cleanup() {
	local status=$? i pid
	trap '' INT TERM
	trap - EXIT
	for ((i = ${#BG_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${BG_PIDS[i]}
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools -------------------------------------------------------------------------

ensure_tools() {
	command -v curl >/dev/null && return 0
	[[ $(id -u) -eq 0 ]] || die "missing curl: install it (apt-get install curl)"
	log "installing curl with apt-get"
	apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends curl >&2
}

# with_db URL NAME: URL with its database replaced by NAME.
with_db() { sed -E "s#(://[^/]+/)[^?]*#\1$2#" <<<"$1"; }

wait_http() {
	local url=$1 what=$2 i
	for ((i = 0; i < 300; i++)); do
		curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
		sleep 0.1
	done
	die "$what did not answer at $url (see $LOG_DIR)"
}

# --- steps -------------------------------------------------------------------------

setup() {
	mkdir -p "$WORK" "$LOG_DIR" "$OUT"
	"$SERVICES" up
	eval "$("$SERVICES" env)"
	ensure_tools
	BASE_URL=$DATABASE_URL
	BENCH_DB_URL=$(with_db "$BASE_URL" "$BENCH_DATABASE")
	CEIL_DB_URL=$(with_db "$BASE_URL" "${BENCH_DATABASE}_ceiling")
	# Redis database 1 for the gateway under test, 2 for the ceilings: never the
	# development data in 0.
	BENCH_REDIS_URL=${REDIS_URL%/*}/$BENCH_REDIS_DB
	CEIL_REDIS_URL=${REDIS_URL%/*}/$((BENCH_REDIS_DB + 1))
	log "building bin/"
	go build -o bin/ ./cmd/gateway ./cmd/gatewayctl ./cmd/banksim ./cmd/loadgen
	GATEWAY_MASTER_KEY=$(head -c 32 /dev/urandom | base64 -w0)
	export GATEWAY_MASTER_KEY GATEWAY_ENV=development
}

start_gateway() {
	log "fresh database $BENCH_DATABASE, portal, banks ${BANKS[*]}"
	bin/loadgen fresh --admin-url "$BASE_URL" --database-url "$BENCH_DB_URL" --redis-url "$BENCH_REDIS_URL"
	DATABASE_URL=$BENCH_DB_URL bin/gatewayctl migrate >/dev/null
	DATABASE_URL=$BENCH_DB_URL bin/gatewayctl portal create --name "Bench portal" \
		--webhook-url "http://$WEBHOOK_ADDR/webhooks" --by "make bench" >"$WORK/portal.json"
	local code secret bank_args=()
	bin/loadgen init --dir "$WORK/state" --banks "$(
		IFS=,
		echo "${BANKS[*]}"
	)"
	for code in "${BANKS[@]}"; do
		DATABASE_URL=$BENCH_DB_URL bin/gatewayctl bank create --code "$code" --name "Bench bank $code" \
			--base-url "http://127.0.0.1:${BANK_PORT[$code]}/api/gw" --by "make bench" >"$WORK/bank-$code.json"
		secret=$(sed -n 's/.*"secret": *"\(bsk_[0-9a-f]*\)".*/\1/p' "$WORK/bank-$code.json")
		[[ -n $secret ]] || die "$WORK/bank-$code.json holds no secret"
		start_bg "banksim-$code" bin/banksim --addr "127.0.0.1:${BANK_PORT[$code]}" --code "$code" --base-path /api/gw \
			--secret "$secret" --callback-url "http://127.0.0.1:$GATEWAY_PORT/v1/bank-callbacks/$code" \
			--accounts "$WORK/state/accounts-$code.json" --log-level warn
		bank_args+=(--bank "$code=$secret=http://127.0.0.1:${BANK_PORT[$code]}")
	done
	BANK_ARGS=("${bank_args[@]}")
	log "starting the gateway on 127.0.0.1:$GATEWAY_PORT, metrics and pprof on 127.0.0.1:$OPS_PORT (log in $LOG_DIR/gateway.log)"
	# Every client of the bench (loadgen's two pools of 256 connections, the
	# banks' callbacks) comes from 127.0.0.1: one source, so its cap is the
	# whole connection budget here.
	# shellcheck disable=SC2086 # GATEWAY_ENV_EXTRA is a list of K=V words
	start_bg gateway env DATABASE_URL="$BENCH_DB_URL" REDIS_URL="$BENCH_REDIS_URL" \
		GATEWAY_ADDR="127.0.0.1:$GATEWAY_PORT" DATABASE_MAX_CONNS="$POOL" \
		OPS_ADDR="127.0.0.1:$OPS_PORT" OPS_PPROF=true GATEWAY_MAX_CONNECTIONS_PER_IP=4096 \
		IDP_ISSUER=https://idp.bench.invalid IDP_AUDIENCE=citizenpay-gateway \
		IDP_JWKS_URL="file://$ROOT/$WORK/state/jwks.json" \
		BANK_CALLBACK_TIMEOUT=1h RATE_LIMIT_PORTAL_RPS="${BENCH_PORTAL_RPS:-100000}" \
		RATE_LIMIT_CITIZEN_RPS="${BENCH_CITIZEN_RPS:-0}" \
		${GATEWAY_ENV_EXTRA:-} bin/gateway
	GATEWAY_PID=${BG_PIDS[-1]} # env execs the gateway: the same process
	wait_http "http://127.0.0.1:$GATEWAY_PORT/readyz" gateway
	for code in "${BANKS[@]}"; do
		wait_http "http://127.0.0.1:${BANK_PORT[$code]}/_sim/knobs" "banksim $code"
	done
}

# --- CPU per operation ----------------------------------------------------------------

# stat_ppid PID: the parent of PID, from /proc (the comm in parentheses may hold spaces).
stat_ppid() { sed -E 's/.*\) [A-Za-z] ([0-9]+) .*/\1/' "/proc/$1/stat" 2>/dev/null; }

# cpu_pids: CPU_PIDS=gateway=PID,postgres=PID,redis=PID for loadgen's --cpu-pids,
# each the root of a process tree on this machine (the servers when they run
# here): PostgreSQL's postmaster is the parent of its checkpointer, whose pid
# any role may read; Redis says its own with INFO, or its pidfile has it.
cpu_pids() {
	local pids=("gateway=$GATEWAY_PID") pg="" redis="" ckpt
	ckpt=$("$SERVICES" psql -XAtc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'" 2>/dev/null || true)
	[[ -z $ckpt ]] || pg=$(stat_ppid "$ckpt")
	if [[ -n $pg && $(cat "/proc/$pg/comm" 2>/dev/null) == postgres* ]]; then
		pids+=("postgres=$pg")
	else
		log "PostgreSQL's postmaster is not a process of this machine: its CPU is not measured"
	fi
	if command -v redis-cli >/dev/null; then
		redis=$(redis-cli -u "$REDIS_URL" info server 2>/dev/null | sed -n 's/^process_id:\([0-9]*\).*/\1/p')
	fi
	[[ -n $redis || ! -r .dev/redis/redis.pid ]] || redis=$(cat .dev/redis/redis.pid)
	if [[ -n $redis && $(cat "/proc/$redis/comm" 2>/dev/null) == redis* ]]; then
		pids+=("redis=$redis")
	else
		log "Redis is not a process of this machine: its CPU is not measured"
	fi
	CPU_PIDS=$(
		IFS=,
		echo "${pids[*]}"
	)
	log "CPU per operation of $CPU_PIDS and loadgen itself ($(getconf CLK_TCK) ticks a second)"
}

# --- ceilings ----------------------------------------------------------------------

ceilings() {
	log "ceilings: the create and clearing transactions, the create pipelined in one round trip and the idempotency script ($CEILING_SECONDS s each, $POOL clients)"
	bin/loadgen ceilings --admin-url "$BASE_URL" --database-url "$CEIL_DB_URL" --redis-url "$CEIL_REDIS_URL" \
		--pool "$POOL" --duration "${CEILING_SECONDS}s" --out "$WORK/ceilings.json"
}

# Rates given by RATE or RATE_<SCENARIO>; the others are loadgen's defaults,
# from the ceilings and the targets (create 0.6 × its ceiling, clear 0.5 ×,
# read 10,000/s, mixed 0.25 × create's ceiling; see cmd/loadgen/rates.go).
rate_args() {
	RATE_ARGS=()
	[[ -z ${RATE:-} ]] || RATE_ARGS+=(--rate "$RATE")
	local name var
	for name in create replay clear flow read mixed; do
		var=RATE_${name^^}
		[[ -z ${!var:-} ]] || RATE_ARGS+=("--rate-$name" "${!var}")
	done
}

main() {
	setup
	start_gateway
	ceilings
	rate_args
	cpu_pids
	log "scenarios $SCENARIOS ($MODE: $DURATION each, mixed $MIXED_DURATION, warm-up $WARMUP)"
	bin/loadgen run --dir "$WORK/state" --gateway "http://127.0.0.1:$GATEWAY_PORT" --ops "http://127.0.0.1:$OPS_PORT" --portal-file "$WORK/portal.json" \
		"${BANK_ARGS[@]}" --database-url "$BENCH_DB_URL" --scenarios "$SCENARIOS" --duration "$DURATION" \
		--mixed-duration "$MIXED_DURATION" --warmup "$WARMUP" --ceilings "$WORK/ceilings.json" \
		--webhook-addr "$WEBHOOK_ADDR" --out "$OUT" --mode "$MODE" "${RATE_ARGS[@]}" \
		--cpu-pids "$CPU_PIDS" --clk-tck "$(getconf CLK_TCK)"
	log "gatewayctl verify on the bench database"
	if DATABASE_URL=$BENCH_DB_URL bin/gatewayctl verify >"$WORK/verify.json" 2>"$LOG_DIR/verify.log"; then
		log "verify: clean"
	else
		log "verify: NOT clean, see $WORK/verify.json"
		cat "$WORK/verify.json" >&2 || true
	fi
}

main "$@"
