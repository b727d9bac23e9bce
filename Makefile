# `make` alone lists the targets: each line "target: ... ## text" is documented.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Go lives in /usr/local/go on the development and CI machines, not always on PATH.
ifeq ($(shell command -v go 2>/dev/null),)
export PATH := /usr/local/go/bin:$(PATH)
endif

GO ?= go
PKGS ?= ./...
TESTFLAGS ?=
FUZZTIME ?= 30s
FUZZPARALLEL ?= 1
SERVICES := scripts/services.sh
# Redocly CLI, pinned: make lint runs it with npx (redocly.yaml, .redocly.lint-ignore.yaml).
REDOCLY := @redocly/cli@2.77.0
SCREENSHOTS_DIR ?= screenshots

.PHONY: help build services test lint run env demo down clean bench fuzz screenshots

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "; printf "Usage: make <target>\n\n"} \
		/^[a-zA-Z0-9_.-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build every command into bin/
	$(GO) build -o bin/ ./cmd/...

services: ## Start the local PostgreSQL and Redis (.dev/), installing them if missing
	@$(SERVICES) up

test: services ## Run all tests with -race against the local services (PKGS=, TESTFLAGS=)
	@eval "$$($(SERVICES) env)" && $(GO) test -race -count=1 -timeout 9m $(TESTFLAGS) $(PKGS)

screenshots: services ## Walk the hosted checkout in headless Chromium, a PNG of every page into SCREENSHOTS_DIR (default screenshots/)
	@mkdir -p "$(SCREENSHOTS_DIR)" && rm -f "$(SCREENSHOTS_DIR)"/*.png "$(SCREENSHOTS_DIR)"/*.pdf
	@eval "$$($(SERVICES) env)" && SCREENSHOTS_DIR="$(abspath $(SCREENSHOTS_DIR))" \
		$(GO) test -count=1 -timeout 5m $(TESTFLAGS) ./internal/browsertest/
	@echo "screenshots: $$(ls "$(SCREENSHOTS_DIR)"/*.png | wc -l) pages in $(SCREENSHOTS_DIR)/"

lint: ## gofmt, go vet, staticcheck and Redocly's lint of api/openapi.yaml (Node.js installed if missing)
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	@$(SERVICES) install node
	npx --yes $(REDOCLY) lint api/openapi.yaml

fuzz: ## Run every Fuzz target in turn for FUZZTIME each (default 30s) with FUZZPARALLEL workers (default 1; PKGS=)
	@targets=$$($(GO) test -list '^Fuzz' $(PKGS) | \
		awk '/^Fuzz/ {names[n++] = $$1; next} /^ok/ {for (i = 0; i < n; i++) print $$2 "," names[i]; n = 0}'); \
	failed=""; \
	for t in $$targets; do \
		pkg=$${t%%,*}; name=$${t#*,}; \
		echo "== $$name ($$pkg)"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) -parallel=$(FUZZPARALLEL) $$pkg || failed="$$failed $$name"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz targets that failed:$$failed"; exit 1; fi

run: ## Run the gateway locally with its services, migrations and a development portal
	@scripts/run.sh

env: ## Print the settings of `make run`'s stack (.dev/env) as export lines, for eval "$(make env)"
	@if [ -f .dev/env ]; then cat .dev/env; else echo 'make env: no .dev/env yet: start the stack with `make run` first' >&2; exit 1; fi

bench: ## Load-test the gateway against this machine's ceilings (SHORT=1 RATE= DURATION= SCENARIOS=)
	@scripts/bench.sh

demo: ## Walk the whole story against `make run`: fee, link, pay, clearing, webhook, refund, verify, reconcile, settlement
	@eval "$$($(SERVICES) env)" && $(GO) run ./cmd/demo

down: ## Stop the local PostgreSQL and Redis
	@$(SERVICES) down

clean: ## Stop the services and delete .dev/ (all local data) and bin/
	@$(SERVICES) clean
	rm -rf .dev bin
