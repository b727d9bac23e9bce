#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run from traps, and helpers not yet enabled
# make run: the gateway on this machine, with its PostgreSQL and Redis, migrated,
# with a development portal. Ctrl-C stops the gateway, every helper process this
# script started, and the services that this run started (not ones that were
# already running, nor the user's own given by DATABASE_URL / REDIS_URL).
#
# Environment: GATEWAY_ADDR (:8080), OPS_ADDR (127.0.0.1:9090: /metrics, and pprof),
# GATEWAY_MASTER_KEY (else .dev/master.key),
# DATABASE_URL and REDIS_URL (else the local services of scripts/services.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
DEV_DIR=.dev
LOG_DIR=$DEV_DIR/log
SERVICES=scripts/services.sh
command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH

log() { printf 'run: %s\n' "$*" >&2; }
die() {
	printf 'run: error: %s\n' "$*" >&2
	exit 1
}

# --- processes stopped on exit -----------------------------------------------

BG_NAMES=()
BG_PIDS=()
STOP_SERVICES=() # services this run started, stopped on exit

# start_bg NAME CMD... runs CMD in the background with its output in
# .dev/log/NAME.log; it is stopped when this script exits.
start_bg() {
	local name=$1
	shift
	"$@" >>"$LOG_DIR/$name.log" 2>&1 &
	BG_NAMES+=("$name")
	BG_PIDS+=("$!")
	log "started $name (pid $!), log in $LOG_DIR/$name.log"
}

# start_bg_console NAME CMD... is start_bg with the output on this terminal.
start_bg_console() {
	local name=$1
	shift
	"$@" &
	BG_NAMES+=("$name")
	BG_PIDS+=("$!")
}

# stop_pid NAME PID asks PID to stop, and kills it after 10 seconds.
stop_pid() {
	local name=$1 pid=$2 i
	kill -0 "$pid" 2>/dev/null || return 0
	log "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	log "$name did not stop within 10s: killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
	local status=$?
	trap '' INT TERM # a second Ctrl-C must not leave servers half stopped
	trap - EXIT
	local i s
	for ((i = ${#BG_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${BG_NAMES[i]}" "${BG_PIDS[i]}"
	done
	wait 2>/dev/null || true
	for s in "${STOP_SERVICES[@]}"; do
		"$SERVICES" down "$s" || status=1
	done
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- extra development processes -------------------------------------------------

# Each helper is one start_bg line; add its command to the go build below.
# The sandbox citizens, one place for both helpers: the sandbox bank SBX (its secret in
# .dev/bank.json) holds their accounts, and the development identity provider offers them
# first on its sign-in page. Fields: account number|pid|name|date of birth|balance.
SANDBOX_CITIZENS=(
	"0071000123456|079203001234|Nguyen Van An|2003-05-17|10000000"
	"0071000999999|001090012345|Tran Thi Binh|1990-02-03|500000"
)
start_banksim() {
	local args=() row number pid name _birthdate balance
	for row in "${SANDBOX_CITIZENS[@]}"; do
		IFS='|' read -r number pid name _birthdate balance <<<"$row"
		args+=(--account "$number:$pid:$name:$balance")
	done
	start_bg banksim bin/banksim --addr 127.0.0.1:8092 --code SBX --base-path /api/gw \
		--secret-file "$DEV_DIR/bank.secret" --callback-url "$(gateway_url)/v1/bank-callbacks/SBX" "${args[@]}"
}
# devidp also mints tokens for any citizen (bin/devidp token …). Its OpenID Connect client,
# the gateway's checkout, comes from IDP_CLIENT_ID, IDP_CLIENT_SECRET and GATEWAY_PUBLIC_URL
# (idp_env), which the gateway reads too.
start_devidp() {
	local args=() row _number pid name birthdate _balance
	for row in "${SANDBOX_CITIZENS[@]}"; do
		IFS='|' read -r _number pid name birthdate _balance <<<"$row"
		args+=(--citizen "$pid:$name:$birthdate")
	done
	start_bg devidp bin/devidp serve --addr 127.0.0.1:8091 "${args[@]}"
}
# The development portal's webhook URL is http://127.0.0.1:8090/webhooks: gatewayctl listen
# verifies each delivery and prints it, one JSON line per event, in .dev/log/webhooks.log.
start_webhook_listener() { start_bg webhooks bin/gatewayctl listen --port 8090 --portal-file "$DEV_DIR/portal.json"; }
start_helpers() {
	start_banksim
	start_devidp
	start_webhook_listener
	:
}

# --- steps -------------------------------------------------------------------

services_up() {
	# Remember which of our servers were already running: those are left running.
	[[ -n ${DATABASE_URL:-} ]] || "$SERVICES" running postgres || STOP_SERVICES+=(postgres)
	[[ -n ${REDIS_URL:-} ]] || "$SERVICES" running redis || STOP_SERVICES+=(redis)
	"$SERVICES" up
	eval "$("$SERVICES" env)"
}

master_key() {
	[[ -z ${GATEWAY_MASTER_KEY:-} ]] || return 0
	local file=$DEV_DIR/master.key
	if [[ ! -s $file ]]; then
		log "creating the development master key in $file"
		(
			umask 077
			head -c 32 /dev/urandom | base64 -w0 >"$file.tmp"
		)
		mv "$file.tmp" "$file"
	fi
	chmod 600 "$file"
	GATEWAY_MASTER_KEY=$(<"$file")
	export GATEWAY_MASTER_KEY
}

dev_portal() {
	local file=$DEV_DIR/portal.json
	[[ ! -s $file ]] || return 0
	log "creating the development portal in $file"
	if ! (umask 077 && bin/gatewayctl portal create --name "Development portal" \
		--webhook-url http://127.0.0.1:8090/webhooks >"$file.tmp"); then
		rm -f "$file.tmp"
		die "bin/gatewayctl portal create failed"
	fi
	mv "$file.tmp" "$file"
	chmod 600 "$file"
}

# dev_bank onboards the sandbox bank once; its secret goes to .dev/bank.secret for banksim.
dev_bank() {
	local file=$DEV_DIR/bank.json
	if [[ ! -s $file ]]; then
		log "onboarding the sandbox bank SBX in $file"
		if ! (umask 077 && bin/gatewayctl bank create --code SBX --name "Sandbox bank" \
			--base-url http://127.0.0.1:8092/api/gw >"$file.tmp"); then
			rm -f "$file.tmp"
			die "bin/gatewayctl bank create failed"
		fi
		mv "$file.tmp" "$file"
	fi
	(umask 077 && sed -n 's/.*"secret": *"\(bsk_[0-9a-f]*\)".*/\1/p' "$file" >"$DEV_DIR/bank.secret")
	[[ -s $DEV_DIR/bank.secret ]] || die "$file holds no secret"
}

# The gateway trusts the development identity provider started below, and signs citizens in
# to the checkout with it as the client IDP_CLIENT_ID (its secret made once in
# .dev/idp-client.secret). The client id is not IDP_AUDIENCE: an ID token is no bearer token.
idp_env() {
	export IDP_ISSUER=${IDP_ISSUER:-http://127.0.0.1:8091}
	export IDP_AUDIENCE=${IDP_AUDIENCE:-citizenpay-gateway}
	export IDP_JWKS_URL=${IDP_JWKS_URL:-http://127.0.0.1:8091/.well-known/jwks.json}
	export GATEWAY_PUBLIC_URL=${GATEWAY_PUBLIC_URL:-$(gateway_url)}
	export IDP_CLIENT_ID=${IDP_CLIENT_ID:-citizenpay-checkout}
	if [[ -z ${IDP_CLIENT_SECRET:-} ]]; then
		local file=$DEV_DIR/idp-client.secret
		if [[ ! -s $file ]]; then
			(
				umask 077
				head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=' >"$file.tmp"
			)
			mv "$file.tmp" "$file"
		fi
		IDP_CLIENT_SECRET=$(<"$file")
		export IDP_CLIENT_SECRET
	fi
}

gateway_url() {
	case $GATEWAY_ADDR in
	:*) echo "http://127.0.0.1$GATEWAY_ADDR" ;;
	0.0.0.0:* | "[::]:"*) echo "http://127.0.0.1:${GATEWAY_ADDR##*:}" ;;
	*) echo "http://$GATEWAY_ADDR" ;;
	esac
}

banner() {
	cat >&2 <<EOF

  Gateway      $(gateway_url)  (GATEWAY_ADDR=$GATEWAY_ADDR)
  Operations   http://$OPS_ADDR/metrics and /debug/pprof/  (OPS_ADDR)
  Portal       $DEV_DIR/portal.json  (key id, secret and webhook secret)
  Webhooks     gatewayctl listen on 127.0.0.1:8090, verified events in $LOG_DIR/webhooks.log
  Sandbox bank SBX on http://127.0.0.1:8092/api/gw ($DEV_DIR/bank.json), log in $LOG_DIR/banksim.log
  Identity     devidp on http://127.0.0.1:8091 (OpenID Connect client $IDP_CLIENT_ID), log in $LOG_DIR/devidp.log
  PostgreSQL   $DATABASE_URL
  Redis        $REDIS_URL

  A first signed request, from another terminal:
    bin/gatewayctl request --portal $DEV_DIR/portal.json GET /v1/payment-requests

  A citizen's token (the sandbox bank holds an account of this pid):
    bin/devidp token --pid 079203001234 --name "Nguyen Van An" --birthdate 2003-05-17

  Ctrl-C stops everything this run started.

EOF
}

main() {
	mkdir -p "$DEV_DIR" "$LOG_DIR"
	services_up
	log "building bin/gateway and bin/gatewayctl"
	go build -o bin/ ./cmd/gateway ./cmd/gatewayctl ./cmd/banksim ./cmd/devidp
	master_key
	export GATEWAY_ENV=development
	export GATEWAY_ADDR=${GATEWAY_ADDR:-:8080}
	export OPS_ADDR=${OPS_ADDR:-127.0.0.1:9090} OPS_PPROF=${OPS_PPROF:-true}
	bin/gatewayctl migrate
	dev_portal
	dev_bank
	idp_env
	start_helpers
	banner
	start_bg_console gateway bin/gateway

	# Wait for the first process to end: any of them ending ends the run.
	local status=0 i
	wait -n "${BG_PIDS[@]}" || status=$?
	for i in "${!BG_PIDS[@]}"; do
		if ! kill -0 "${BG_PIDS[i]}" 2>/dev/null; then
			log "${BG_NAMES[i]} exited (status $status)"
			break
		fi
	done
	exit "$status"
}

main "$@"
