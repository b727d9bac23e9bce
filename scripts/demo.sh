#!/usr/bin/env bash
# make demo: the whole story against the gateway `make run` started (its
# sandbox bank SBX, identity provider and `gatewayctl listen`), told step by
# step by cmd/demo. DATABASE_URL is set as `make run` sets it, for the
# closing `gatewayctl verify`.
#
# Environment: GATEWAY_URL (http://127.0.0.1:8080), DATABASE_URL (else the
# local PostgreSQL of scripts/services.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH

# The database `make run` uses: the user's own, or this checkout's.
eval "$(scripts/services.sh env)"
go build -o bin/ ./cmd/demo
exec bin/demo
