#!/usr/bin/env bash
# make run: the gateway on this machine. This script brings up PostgreSQL and
# Redis (scripts/services.sh) and runs cmd/devstack, which migrates, makes sure
# of the development portal and sandbox bank, starts the gateway and its
# helpers, and prints where everything is. Ctrl-C (or SIGTERM) stops devstack,
# which stops every program it started; then this script stops the services
# that this run started (not ones that were already running, nor the user's
# own given by DATABASE_URL / REDIS_URL) and exits 0: a stop asked for is not
# a failure, and make does not report "Error 130".
#
# Environment: see cmd/devstack (GATEWAY_ADDR, OPS_ADDR, GATEWAY_MASTER_KEY,
# DEV_IDP_ADDR, DEV_BANK_ADDR, DEV_WEBHOOK_PORT, …); DATABASE_URL and REDIS_URL
# (else the local services of scripts/services.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
SERVICES=scripts/services.sh
command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH

STOP_SERVICES=() # services this run started, stopped on exit
DEVSTACK=        # devstack's pid while it runs

cleanup() {
	local status=$? s
	trap '' INT TERM HUP # a second Ctrl-C must not leave servers half stopped
	trap - EXIT
	if [[ -n $DEVSTACK ]] && kill -0 "$DEVSTACK" 2>/dev/null; then
		kill -TERM "$DEVSTACK" 2>/dev/null || true
		wait "$DEVSTACK" 2>/dev/null || true
	fi
	for s in "${STOP_SERVICES[@]}"; do
		"$SERVICES" down "$s" || status=1
	done
	exit "$status"
}
# on_signal SIG passes SIG on to devstack, which stops its programs and exits
# 0; before devstack runs, the script stops at once, with status 0.
STOPPED= # set once a signal asked the run to stop
on_signal() {
	STOPPED=$1
	if [[ -n $DEVSTACK ]]; then
		kill -"$1" "$DEVSTACK" 2>/dev/null || true
	else
		exit 0
	fi
}
trap cleanup EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

# Remember which of our servers were already running: those are left running.
[[ -n ${DATABASE_URL:-} ]] || "$SERVICES" running postgres || STOP_SERVICES+=(postgres)
[[ -n ${REDIS_URL:-} ]] || "$SERVICES" running redis || STOP_SERVICES+=(redis)
"$SERVICES" up
eval "$("$SERVICES" env)"

go build -o bin/devstack ./cmd/devstack
# At a terminal, devstack runs as the terminal's foreground job, in a process
# group of its own: Ctrl-C then reaches devstack alone, not make, which would
# otherwise kill itself with SIGINT and exit 130 however cleanly the stack
# stopped. Elsewhere (CI, a background run) signals come to this script.
if [[ -t 0 ]] && set -m 2>/dev/null; then
	bin/devstack &
	DEVSTACK=$!
	fg %% >/dev/null && status=0 || status=$?
	DEVSTACK=
	# Stopped with Ctrl-C: devstack exits 0, or 130 if the signal came
	# before its handler was in place; both are a stop asked for.
	((status == 130)) && status=0
	exit "$status"
fi
bin/devstack &
DEVSTACK=$!
# wait returns early when a signal is trapped: wait again until devstack ends.
status=0
while :; do
	wait "$DEVSTACK" && status=0 || status=$?
	kill -0 "$DEVSTACK" 2>/dev/null || break
done
DEVSTACK=
# Stopped by a signal: devstack exits 0 then, and a status of 128 + N is the
# signal reaching it before its handler was in place, also a stop asked for.
if [[ -n $STOPPED ]] && ((status == 0 || status > 128)); then
	status=0
fi
exit "$status"
