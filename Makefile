# t2t — make demo runs a migration wave on the local stack; make test sets up and passes the tests.
SHELL := /bin/bash
GO ?= go
BIN := bin
AZURITE := tools/azurite/node_modules/.bin/azurite
BICEP_PARSER := tools/bicep/node_modules/tree-sitter-bicep/tree-sitter-bicep.wasm
export GOFLAGS ?= -mod=mod

.PHONY: all tools chromium build test vet fmt-check demo bench bench-rows bench-azurite package clean stack

all: build

# Azurite comes from npm into tools/azurite (project-local; nothing installed globally).
$(AZURITE): tools/azurite/package.json tools/azurite/package-lock.json
	cd tools/azurite && npm ci --no-audit --no-fund --loglevel=error
	@touch $(AZURITE)

# tree-sitter-bicep (WebAssembly build) and web-tree-sitter from npm into tools/bicep, for the infra
# contract tests that parse every .bicep file (the Bicep CLI is not needed); no native build.
$(BICEP_PARSER): tools/bicep/package.json tools/bicep/package-lock.json
	cd tools/bicep && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $(BICEP_PARSER)

# Chromium for the browser test (handlers TestOperatorViewsInABrowser), from the system package
# manager when none is on PATH (or named by T2T_CHROMIUM): the Debian package chromium, with sudo
# unless root. The test fails, never skips, without it.
chromium:
	@if [ -n "$$T2T_CHROMIUM" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then echo "installing chromium (apt-get)"; apt-get update -qq && apt-get install -y -qq chromium; \
	else echo "installing chromium (sudo apt-get)"; sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi

tools: $(AZURITE) $(BICEP_PARSER) chromium

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/handler ./cmd/handler
	$(GO) build -o $(BIN)/funchost ./cmd/funchost
	$(GO) build -o $(BIN)/tenantsim ./cmd/tenantsim
	$(GO) build -o $(BIN)/t2t ./cmd/t2t
	$(GO) build -o $(BIN)/t2t-lab ./cmd/t2t-lab

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './tools/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The integration tests start Azurite, the tenant simulator, the local Functions host and the
# handler themselves (binaries from $(BIN)).
test: tools build fmt-check vet
	T2T_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 20m ./...

# The wave is followed with the operator's `t2t watch` (bars on a terminal, plain lines otherwise).
demo: tools build
	$(BIN)/t2t-lab demo --bin $(BIN) --csv demo/usermapping.csv

# Runs the local stack until Ctrl-C, for rehearsals with the t2t CLI or Storage Explorer.
stack: tools build
	$(BIN)/t2t-lab stack --bin $(BIN)

# A 10,000-user wave against quota-enforcing simulated tenants (T2T_BENCH_USERS, T2T_BENCH_TIMESCALE);
# prints ratios against the targets of DESIGN section 11.
bench: tools build
	T2T_BIN=$(CURDIR)/$(BIN) $(GO) test -run '^$$' -bench BenchmarkWave -benchtime 1x -timeout 90m ./handlers

# The users wave at 10,000 and 100,000 rows (T2T_BENCH_ROWS), dry run and real (T2T_BENCH_MODES), each
# on a fresh metered stack: time against its bound, storage requests per row, Azurite's growth, peak
# memory per process. About 40 minutes at the default 4x time compression; not part of make test.
bench-rows: tools build
	T2T_BIN=$(CURDIR)/$(BIN) $(GO) test -run '^$$' -bench BenchmarkWaveRows -benchtime 1x -timeout 180m ./handlers

# Azurite's own memory per table entity, apart from t2t (ledger-shaped and bare entities, 100,000 and
# 200,000 of them; T2T_BENCH_ENTITIES): the floor under bench-rows' Azurite figure. About 3 minutes.
bench-azurite: tools
	$(GO) test -run '^$$' -bench AzuriteEntityMemory -benchtime 1x -timeout 30m ./shared/localstack

# Assembles the deployable function app: host.json, one folder per function, linux/amd64 handler.
package:
	rm -rf dist/app && mkdir -p dist/app
	rm -f dist/app.zip dist/app.tar.gz
	cp host.json dist/app/
	cp -r functions/* dist/app/
	GOOS=linux GOARCH=amd64 CGO_ENABLED=0 $(GO) build -o dist/app/handler ./cmd/handler
	cd dist/app && zip -qr ../app.zip . 2>/dev/null || tar -czf ../app.tar.gz .

clean:
	rm -rf $(BIN) dist
