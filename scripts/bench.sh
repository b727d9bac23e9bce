#!/usr/bin/env bash
# make bench: the gateway's hot paths measured against this machine's own limits
# (issue 6). On one machine it brings up PostgreSQL and Redis (scripts/services.sh),
# a fresh bench database, two sandbox banks in instant-callback mode and the gateway
# (built binaries), then:
#   1. ceilings: pgbench runs the gateway's own create and clearing transactions on a
#      scratch copy of the schema at a concurrency equal to the gateway's pool, and
#      redis-benchmark runs the idempotency script (EVALSHA);
#   2. cmd/loadgen drives open-loop, constant-rate scenarios and prints a Markdown
#      table with each scenario's ratio to its ceiling; JSON and a PNG chart go to
#      bench-results/ (ignored by git);
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
#   CEILING_SECONDS  how long each pgbench runs (default 15; SHORT: 4)
#   DATABASE_MAX_CONNS=32   the gateway's pool, and pgbench's concurrency
#   BENCH_PORTAL_RPS=100000 the bench portal's rate limit (RATE_LIMIT_PORTAL_RPS)
#   BENCH_CITIZEN_RPS=0     the bench citizens' rate limit (RATE_LIMIT_CITIZEN_RPS; 0: none, as each pays many fees)
#   GATEWAY_ENV_EXTRA="K=V …"  extra settings for the gateway under test
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
GATEWAY_PORT=18080
OPS_PORT=18095
WEBHOOK_ADDR=127.0.0.1:18093
BANKS=(SBX SB2)
declare -A BANK_PORT=([SBX]=18092 [SB2]=18094)

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

# The ceilings need pgbench (Debian's postgresql server package) and
# redis-benchmark (redis-tools); installed like scripts/services.sh installs servers.
ensure_tools() {
	local pkgs=()
	find_pgbench >/dev/null || pkgs+=(postgresql)
	command -v redis-benchmark >/dev/null || pkgs+=(redis-tools)
	command -v psql >/dev/null || pkgs+=(postgresql-client)
	command -v curl >/dev/null || pkgs+=(curl)
	((${#pkgs[@]} == 0)) && return 0
	[[ $(id -u) -eq 0 ]] || die "missing ${pkgs[*]}: install them (apt-get install ${pkgs[*]})"
	log "installing ${pkgs[*]} with apt-get"
	apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2
	find_pgbench >/dev/null || die "pgbench not found after installing"
}

find_pgbench() {
	local p
	for p in /usr/lib/postgresql/*/bin/pgbench; do
		[[ -x $p ]] && {
			echo "$p"
			return 0
		}
	done
	command -v pgbench
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
	BENCH_DB_URL=$(with_db "$BASE_URL" gateway_bench)
	CEIL_DB_URL=$(with_db "$BASE_URL" gateway_bench_ceiling)
	# Redis database 1 for the gateway under test, 2 for redis-benchmark: never the
	# development data in 0.
	BENCH_REDIS_URL=${REDIS_URL%/*}/1
	REDIS_HOST=$(sed -E 's#redis://([^:/@]+@)?([^:/]+):([0-9]+).*#\2#' <<<"$REDIS_URL")
	REDIS_PORT=$(sed -E 's#redis://([^:/@]+@)?([^:/]+):([0-9]+).*#\3#' <<<"$REDIS_URL")
	log "building bin/"
	go build -o bin/ ./cmd/gateway ./cmd/gatewayctl ./cmd/banksim ./cmd/loadgen
	GATEWAY_MASTER_KEY=$(head -c 32 /dev/urandom | base64 -w0)
	export GATEWAY_MASTER_KEY GATEWAY_ENV=development
}

fresh_db() {
	local url=$1 name=$2
	psql -q "$BASE_URL" -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >/dev/null
	DATABASE_URL=$url bin/gatewayctl migrate >/dev/null
}

start_gateway() {
	log "fresh database gateway_bench, portal, banks ${BANKS[*]}"
	fresh_db "$BENCH_DB_URL" gateway_bench
	redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n 1 FLUSHDB >/dev/null
	DATABASE_URL=$BENCH_DB_URL bin/gatewayctl portal create --name "Bench portal" \
		--webhook-url "http://$WEBHOOK_ADDR/webhooks" >"$WORK/portal.json"
	local code secret bank_args=()
	bin/loadgen init --dir "$WORK/state" --banks "$(
		IFS=,
		echo "${BANKS[*]}"
	)"
	for code in "${BANKS[@]}"; do
		DATABASE_URL=$BENCH_DB_URL bin/gatewayctl bank create --code "$code" --name "Bench bank $code" \
			--base-url "http://127.0.0.1:${BANK_PORT[$code]}/api/gw" >"$WORK/bank-$code.json"
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
	wait_http "http://127.0.0.1:$GATEWAY_PORT/readyz" gateway
	for code in "${BANKS[@]}"; do
		wait_http "http://127.0.0.1:${BANK_PORT[$code]}/_sim/knobs" "banksim $code"
	done
}

# --- ceilings ----------------------------------------------------------------------

# The scratch database holds the gateway's schema and, for the clearing
# transaction, requests in processing with their pending debits.
seed_ceiling_db() {
	fresh_db "$CEIL_DB_URL" gateway_bench_ceiling
	psql -q "$CEIL_DB_URL" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
INSERT INTO portals (id, name, key_id, secret_sealed, webhook_url, webhook_secret_sealed)
VALUES ('ptl_bench', 'Bench', 'pk_bench', '\x00', 'http://127.0.0.1:9/webhooks', '\x00');
INSERT INTO banks (code, name, base_url, secret_sealed) VALUES ('SBX', 'Bench bank', 'http://127.0.0.1:9', '\x00');
INSERT INTO citizens (id, pid_index, pid_sealed) VALUES ('ctz_bench', '\x01', '\x02');
INSERT INTO linked_accounts (id, citizen_id, bank_code, account_index, account_sealed, account_masked,
    holder_name_sealed, status, is_default, verification_id, verification_outcome)
VALUES ('acc_bench', 'ctz_bench', 'SBX', '\x03', '\x04', '******3456', '\x05', 'active', true, 'av_bench', 'succeeded');
INSERT INTO payment_requests (id, portal_id, status, citizen_pid_index, citizen_pid_sealed, citizen_pid_masked,
    dossier_code, service_code, description, items, amount, currency, expires_at)
SELECT 'pr_bench_' || g, 'ptl_bench', 'processing', decode(md5('pid'), 'hex'), decode(repeat('ab', 60), 'hex'),
    '079******234', 'D-' || g, '1.001234', 'Lệ phí cấp giấy phép xây dựng',
    '[{"code":"LE_PHI","description":"Lệ phí","amount":"50000"},{"code":"PHI","description":"Phí thẩm định","amount":"25000"}]',
    75000, 'VND', now() + interval '1 day'
FROM generate_series(1, 20000) g;
INSERT INTO payment_attempts (id, payment_request_id, account_id, bank_code, amount, currency, status, sent_at)
SELECT 'pa_bench_' || g, 'pr_bench_' || g, 'acc_bench', 'SBX', 75000, 'VND', 'pending', now()
FROM generate_series(1, 20000) g;
ANALYZE;
SQL
}

# JSON values the transactions write, passed to pgbench as variables (-D): a
# colon in a literal would read as a pgbench variable.
PR_JSON='{"id":"pr_x","object":"payment_request","status":"pending","version":1,"citizen_pid_masked":"079******234","dossier_code":"HCM-2026-000123","service_code":"1.001234","description":"Lệ phí cấp giấy phép xây dựng","items":[{"code":"LE_PHI","description":"Lệ phí","amount":"50000"},{"code":"PHI","description":"Phí thẩm định","amount":"25000"}],"amount":"75000","currency":"VND","amount_refunded":"0","expires_at":"2026-01-02T00:00:00Z","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","metadata":{"office":"Q1"},"payment":null}'
PGBENCH_VARS=(
	-D "event={\"id\":\"evt_x\",\"type\":\"payment_request.created\",\"created_at\":\"2026-01-01T00:00:00Z\",\"data\":{\"payment_request\":$PR_JSON}}"
	-D "response=$PR_JSON"
	-D 'items=[{"code":"LE_PHI","description":"Lệ phí","amount":"50000"},{"code":"PHI","description":"Phí thẩm định","amount":"25000"}]'
	-D 'meta={"office":"Q1"}'
	-D 'cbbody={"event_id":"evt-1","type":"debit.succeeded","occurred_at":"2026-01-01T00:00:00Z","data":{"debit_id":"pa_x","amount":"75000","currency":"VND","bank_reference":"FT123"}}'
	-D 'acct1=bank_clearing:SBX'
	-D 'acct2=portal_payable:ptl_bench'
)

# The create transaction as the gateway runs it (internal/idempotency, service,
# postgres): the idempotency record first, the request and its event (written
# due for the webhook dispatcher), then the stored response.
write_pgbench_scripts() {
	cat >"$WORK/create.sql" <<'SQL'
\set k random(1, 9000000000000000000)
BEGIN;
INSERT INTO idempotency_records (scope, key, fingerprint) VALUES ('portal-ptl_bench', :client_id::text || '-' || :k::text, decode(md5('fp'), 'hex')) ON CONFLICT DO NOTHING;
INSERT INTO payment_requests (id, portal_id, status, version, citizen_pid_index, citizen_pid_sealed, citizen_pid_masked, dossier_code, service_code, description, items, amount, currency, amount_refunded, metadata, expires_at, created_at, updated_at) VALUES ('pr_' || gen_random_uuid(), 'ptl_bench', 'pending', 1, decode(md5('pid'), 'hex'), decode(repeat('ab', 60), 'hex'), '079******234', :client_id::text || '-' || :k::text, '1.001234', 'Lệ phí cấp giấy phép xây dựng', :items, 75000, 'VND', 0, :meta, now() + interval '1 day', now(), now());
INSERT INTO events (id, portal_id, type, payload, created_at) VALUES ('evt_' || gen_random_uuid(), 'ptl_bench', 'payment_request.created', :event, now());
UPDATE idempotency_records SET response_status = 201, response_body = convert_to(:response, 'UTF8') WHERE scope = 'portal-ptl_bench' AND key = :client_id::text || '-' || :k::text;
END;
SQL
	# The clearing transaction (service.Callbacks.Apply, ApplyDebitOutcome,
	# postgres.PostLedger): claim the bank event, read the attempt, lock the request
	# and the attempt, save both, post the ledger, write the event, and record the
	# result.
	cat >"$WORK/clear.sql" <<'SQL'
\set n random(1, 20000)
\set e random(1, 9000000000000000000)
BEGIN;
INSERT INTO bank_events (bank_code, event_id, type, object_id, result, body) VALUES ('SBX', :client_id::text || '-' || :e::text, 'debit.succeeded', 'pa_' || gen_random_uuid(), 'processing', :cbbody) ON CONFLICT DO NOTHING;
SELECT id, payment_request_id, bank_code, amount, status FROM payment_attempts WHERE id = 'pa_bench_' || :n;
SELECT id, status, version, amount FROM payment_requests WHERE id = 'pr_bench_' || :n FOR UPDATE;
SELECT id, status, amount FROM payment_attempts WHERE id = 'pa_bench_' || :n FOR UPDATE;
UPDATE payment_attempts SET status = 'succeeded', bank_reference = 'FT123', outcome_at = now(), updated_at = now() WHERE id = 'pa_bench_' || :n;
UPDATE payment_requests SET status = 'paid', version = version + 1, paid_attempt_id = 'pa_bench_' || :n, paid_bank_code = 'SBX', paid_bank_reference = 'FT123', paid_at = now(), updated_at = now() WHERE id = 'pr_bench_' || :n;
WITH t AS (INSERT INTO ledger_transactions (cause, kind) VALUES ('pa_' || gen_random_uuid(), 'debit_succeeded') ON CONFLICT (cause) DO NOTHING RETURNING id), p AS (INSERT INTO ledger_postings (transaction_id, account, direction, amount, currency) SELECT t.id, x.account, x.direction, x.amount, 'VND' FROM t, unnest(ARRAY[:acct1, :acct2]::text[], ARRAY['debit', 'credit']::text[], ARRAY[75000, 75000]::numeric[]) WITH ORDINALITY AS x(account, direction, amount, n) ORDER BY x.n RETURNING 1) SELECT id, (SELECT count(*) FROM p) FROM t;
INSERT INTO events (id, portal_id, type, payload, created_at) VALUES ('evt_' || gen_random_uuid(), 'ptl_bench', 'payment_request.paid', :event, now());
UPDATE bank_events SET result = 'applied' WHERE bank_code = 'SBX' AND event_id = :client_id::text || '-' || :e::text;
END;
SQL
}

# pgbench_tps SCRIPT: transactions a second of SCRIPT at the pool's concurrency.
pgbench_tps() {
	local script=$1 pgbench out
	pgbench=$(find_pgbench)
	out=$("$pgbench" -n -M prepared -c "$POOL" -j 2 -T "$CEILING_SECONDS" "${PGBENCH_VARS[@]}" -f "$WORK/$script" "$CEIL_DB_URL" 2>&1) ||
		die "pgbench $script failed: $out"
	grep -qE 'number of failed transactions: 0 ' <<<"$out" || log "pgbench $script: $(grep -i failed <<<"$out" || true)"
	sed -nE 's/^tps = ([0-9.]+) .*/\1/p' <<<"$out" | head -1
}

# The idempotency script exactly as the gateway runs it, lifted from its source.
redis_idem_rps() {
	local src sha n out
	src=$(awk '/^var acquireScript = redis.NewScript\(`/{f=1; next} f && /^`\)/{exit} f' internal/redisstore/idempotency.go)
	[[ $src == *HMGET* ]] || die "could not read the idempotency script from internal/redisstore/idempotency.go"
	sha=$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" SCRIPT LOAD "$src")
	n=$((CEILING_SECONDS * 40000))
	redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n 2 FLUSHDB >/dev/null
	out=$(redis-benchmark -h "$REDIS_HOST" -p "$REDIS_PORT" --dbnum 2 -c "$POOL" -n "$n" -r 100000000 -q \
		EVALSHA "$sha" 1 "idem:{portal:ptl_bench:__rand_int__}" "$(printf '%064d' 0)" tok 60000 2>&1)
	redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n 2 FLUSHDB >/dev/null
	sed -nE 's/.*: ([0-9.]+) requests per second.*/\1/p' <<<"$out" | tail -1
}

ceilings() {
	log "ceilings: pgbench ($CEILING_SECONDS s each, $POOL clients, synchronous_commit=$(psql -Atc 'SHOW synchronous_commit' "$BASE_URL")) and redis-benchmark"
	seed_ceiling_db
	write_pgbench_scripts
	local create clear redis
	create=$(pgbench_tps create.sql)
	clear=$(pgbench_tps clear.sql)
	redis=$(redis_idem_rps)
	[[ -n $create && -n $clear && -n $redis ]] || die "a ceiling could not be measured: create=$create clear=$clear redis=$redis"
	printf '{"create_tps": %s, "clear_tps": %s, "redis_idem_rps": %s, "pool": %s}\n' "$create" "$clear" "$redis" "$POOL" >"$WORK/ceilings.json"
	log "ceilings: create $create tx/s, clear $clear tx/s, idempotency script $redis calls/s"
	psql -q "$BASE_URL" -c "DROP DATABASE IF EXISTS gateway_bench_ceiling WITH (FORCE)" >/dev/null
	CEIL_CREATE=$create
	CEIL_CLEAR=$clear
}

# Default rates: the targets' own rates where a target names one (create at 0.6 ×
# its ceiling, clear at 0.5 ×, read at 10,000/s), and a mixed soak at 0.25 × create's:
# a sustainable rate (its pays and clears cost about 2.5 creates each in the database;
# at 0.4 × the mix is past capacity and sheds), so that overload (3 × mixed) is 3 × what
# the gateway sustains, as the issue defines it.
rate_args() {
	RATE_ARGS=()
	if [[ -n ${RATE:-} ]]; then
		RATE_ARGS+=(--rate "$RATE")
	fi
	local name var val
	for name in create replay clear flow read mixed; do
		var=RATE_${name^^}
		val=${!var:-}
		if [[ -z $val && -z ${RATE:-} ]]; then
			case $name in
			create) val=$(awk -v c="$CEIL_CREATE" 'BEGIN{printf "%d", c*0.6}') ;;
			clear) val=$(awk -v c="$CEIL_CLEAR" 'BEGIN{printf "%d", c*0.5}') ;;
			read) val=10000 ;;
			mixed) val=$(awk -v c="$CEIL_CREATE" 'BEGIN{printf "%d", c*0.25}') ;;
			esac
		fi
		[[ -z $val ]] || RATE_ARGS+=("--rate-$name" "$val")
	done
}

main() {
	setup
	start_gateway
	ceilings
	rate_args
	log "scenarios $SCENARIOS ($MODE: $DURATION each, mixed $MIXED_DURATION, warm-up $WARMUP)"
	bin/loadgen run --dir "$WORK/state" --gateway "http://127.0.0.1:$GATEWAY_PORT" --ops "http://127.0.0.1:$OPS_PORT" --portal-file "$WORK/portal.json" \
		"${BANK_ARGS[@]}" --database-url "$BENCH_DB_URL" --scenarios "$SCENARIOS" --duration "$DURATION" \
		--mixed-duration "$MIXED_DURATION" --warmup "$WARMUP" --ceilings "$WORK/ceilings.json" \
		--webhook-addr "$WEBHOOK_ADDR" --out "$OUT" --mode "$MODE" "${RATE_ARGS[@]}"
	log "gatewayctl verify on the bench database"
	if DATABASE_URL=$BENCH_DB_URL bin/gatewayctl verify >"$WORK/verify.json" 2>"$LOG_DIR/verify.log"; then
		log "verify: clean"
	else
		log "verify: NOT clean, see $WORK/verify.json"
		cat "$WORK/verify.json" >&2 || true
	fi
}

main "$@"
