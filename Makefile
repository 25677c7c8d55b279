# Airside: `make run` starts the whole set locally, `make test` runs every test and linter.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SERVICES := booking lounge callcenter
PYTEST := $(BIN)/python -m pytest
# Spectral (the OpenAPI linter), pinned by its lock file; `npm ci` runs again only when the lock changes.
SPECTRAL_DIR := clients/spectral
SPECTRAL_STAMP := $(SPECTRAL_DIR)/node_modules/.installed-stamp
# The official AsyncAPI parser, pinned the same way: shared/airside/asyncapi.json with no error or warning.
ASYNCAPI_DIR := clients/asyncapi
ASYNCAPI_STAMP := $(ASYNCAPI_DIR)/node_modules/.installed-stamp
# The front-end contract: openapi-typescript types from docs/openapi/ and clients/typescript/src/frontend.ts
# compiled with tsc --strict; the types are generated, not committed (the documents are the checked copy).
TS_DIR := clients/typescript
TS_STAMP := $(TS_DIR)/node_modules/.installed-stamp
TS_TYPES := $(foreach s,$(SERVICES),$(TS_DIR)/src/generated/$(s).ts)
# The browser tests (tests/browser): playwright-core, pinned the same way, drives Debian's Chromium; it never downloads a browser.
BROWSER_DIR := clients/browser
BROWSER_STAMP := $(BROWSER_DIR)/node_modules/.installed-stamp
CHROMIUM ?= $(or $(AIRSIDE_CHROMIUM),/usr/bin/chromium)

.PHONY: install browser promtool run test lint format typescript-client test-lane-packages test-shared test-shared-sqlite test-processes test-services test-services-sqlite test-system test-fuzz test-e2e clean

$(STAMP): constraints.txt requirements-dev.txt shared/pyproject.toml tools/pyproject.toml $(foreach s,$(SERVICES),services/$(s)/pyproject.toml)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Airside needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# uv installs the pinned set from its cache in seconds where pip took most of a minute (P7, bench/PROFILE.md);
	# uv itself comes from pip, pinned like the rest.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt -r requirements-dev.txt \
		-e shared -e tools $(foreach s,$(SERVICES),-e services/$(s))
	@touch $(STAMP)

install: $(STAMP)

$(SPECTRAL_STAMP): $(SPECTRAL_DIR)/package-lock.json
	cd $(SPECTRAL_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(SPECTRAL_STAMP)

$(ASYNCAPI_STAMP): $(ASYNCAPI_DIR)/package-lock.json
	cd $(ASYNCAPI_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(ASYNCAPI_STAMP)

$(TS_STAMP): $(TS_DIR)/package-lock.json
	cd $(TS_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(TS_STAMP)

$(BROWSER_STAMP): $(BROWSER_DIR)/package-lock.json
	cd $(BROWSER_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(BROWSER_STAMP)

# Debian packages some tests need, where this user may install them: as root, or through sudo without a password.
APT_INSTALL = sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo -n"; \
	$$sudo apt-get update -qq && $$sudo apt-get install -y -qq --no-install-recommends

# Chromium for tests/browser, with a CJK font for the Chinese labels; where it cannot be installed, the browser
# tests report that they skipped, and why.
browser: $(BROWSER_STAMP)
	@test -x $(CHROMIUM) || { $(APT_INSTALL) chromium fonts-wqy-microhei; } \
		|| echo "Chromium could not be installed: the browser tests (tests/browser) will say they skipped"

# promtool (Debian's prometheus package) for tests/test_prometheus_rules.py; without it those tests say they skipped.
# Where systemd runs, the package also starts a Prometheus on :9090 that nothing here needs (systemctl disable --now prometheus).
promtool:
	@command -v promtool >/dev/null || { $(APT_INSTALL) prometheus; } \
		|| echo "promtool could not be installed: tests/test_prometheus_rules.py will say it skipped"

$(TS_DIR)/src/generated/%.ts: docs/openapi/%.json $(TS_STAMP)
	$(TS_DIR)/node_modules/.bin/openapi-typescript $< --output $@ --silent

typescript-client: $(TS_TYPES)
	$(TS_DIR)/node_modules/.bin/tsc --noEmit -p $(TS_DIR)/tsconfig.json

run: install
	@$(BIN)/airside-dev run

lint: install $(SPECTRAL_STAMP) $(ASYNCAPI_STAMP) typescript-client
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/airside-dev asyncapi --check
	# Against the published document (origin/main, else HEAD), so regenerating cannot accept a break: docs/events.md, Versioning.
	(git show origin/main:shared/airside/asyncapi.json 2>/dev/null || git show HEAD:shared/airside/asyncapi.json) > $(VENV)/published-asyncapi.json
	$(BIN)/airside-dev events-compat --against $(VENV)/published-asyncapi.json
	node $(ASYNCAPI_DIR)/validate.mjs shared/airside/asyncapi.json
	$(BIN)/airside-dev openapi --check
	$(SPECTRAL_DIR)/node_modules/.bin/spectral lint --ruleset .spectral.yaml --fail-severity=warn --quiet docs/openapi/*.json

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Each service's tests run in their own interpreter: the services share table names by design.
# Five lanes at once, each printed whole when it ends (--output-sync): the linters and the shared package's tests;
# the services' tests, on PostgreSQL then on SQLite; the system tests in tests/; the fuzzing and the browser
# tests, then the shared package's tests on SQLite; the journeys. Most of them wait on processes part of the
# time, so on two cores they keep both busy; no lane is much longer than the CPU time of all of them over two
# cores. Every wait in them is for a state, never for a time, so they hold on a loaded machine (docs/testing.md).
# Chromium and promtool are installed before the lanes start (two apt-get at once would wait on each other's lock).
test: install browser promtool
	@$(MAKE) --no-print-directory -j5 --output-sync=target test-lane-packages test-services test-system test-fuzz test-e2e

test-lane-packages: lint
	@$(MAKE) --no-print-directory test-shared test-processes

test-shared: install
	$(PYTEST) shared/tests

test-services: install
	@for s in $(SERVICES); do echo "== $$s"; $(PYTEST) services/$$s/tests || exit 1; done
	@$(MAKE) --no-print-directory test-services-sqlite

# The same tests again on SQLite, the embedded run's database, when CI has given PostgreSQL: one code path,
# two databases (docs/testing.md). Without AIRSIDE_TEST_POSTGRES_URL the runs above were on SQLite already.
ON_SQLITE := AIRSIDE_TEST_POSTGRES_URL=

test-shared-sqlite: install
	@if [ -n "$$AIRSIDE_TEST_POSTGRES_URL" ]; then $(ON_SQLITE) $(PYTEST) shared/tests; fi

test-services-sqlite: install
	@if [ -n "$$AIRSIDE_TEST_POSTGRES_URL" ]; then \
		for s in $(SERVICES); do echo "== $$s on SQLite"; $(ON_SQLITE) $(PYTEST) services/$$s/tests || exit 1; done; fi

# The cross-service tests in two lanes of about equal length: those that run the command line, compose's
# environment and the external relay as processes (test-processes) beside the shared tests; the rest.
PROCESS_TESTS := tests/test_cli.py tests/test_compose.py tests/test_external_relay.py

test-processes: install
	$(PYTEST) $(PROCESS_TESTS)

# promtool first, for the alert rules' tests.
test-system: install promtool
	$(PYTEST) tests --ignore=tests/e2e --ignore=tests/browser --ignore=tests/test_openapi_fuzz.py $(foreach t,$(PROCESS_TESTS),--ignore=$(t))

# R7's fuzzing, and the browser tests (Chromium and the driver first: `browser`); then the shared package's tests
# on SQLite, in this lane because it is the shortest.
test-fuzz: install browser
	$(PYTEST) tests/test_openapi_fuzz.py tests/browser
	@$(MAKE) --no-print-directory test-shared-sqlite

# The journeys run in an interpreter of their own, with a service set of their own.
test-e2e: install
	$(PYTEST) tests/e2e

# Ceilings C1-C3 and targets P1-P7 on PostgreSQL (AIRSIDE_BENCH_POSTGRES_URL), one table; see README, Performance.
bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .data
