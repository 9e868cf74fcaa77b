# Tallymesh — build, run and test.
#
#   make run    set up whatever is missing, build, and open the app
#   make test   everything CI checks
#
# Other targets: make node, make e2e, make sim SEEDS=N, make setup, make bindings, make clean.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := run

CARGO ?= cargo
NPM ?= npm
APP := target/debug/tallymesh-app
CLI := target/debug/tallymesh
TAURI_DRIVER_VERSION := 2.1.0

# Debian/Ubuntu packages that building the app and running its tests need.
APT_PACKAGES := build-essential pkg-config libwebkit2gtk-4.1-dev libdbus-1-dev libclang-dev \
	libayatana-appindicator3-dev xvfb xauth webkit2gtk-driver dbus gnome-keyring keyutils

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
UNAME := $(shell uname -s)

.PHONY: run node test e2e setup system-deps ui-deps e2e-deps tauri-driver toolchain \
	ui build fmt-check clippy rust-test ui-check sim bindings clean help

help:
	@sed -n '1,6p' Makefile | sed 's/^# \{0,1\}//'

# ---------------------------------------------------------------- setup

setup: system-deps toolchain ui-deps e2e-deps tauri-driver

system-deps:
ifeq ($(UNAME),Linux)
	@if command -v dpkg >/dev/null; then \
		missing=""; \
		for p in $(APT_PACKAGES); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
		if [ -n "$$missing" ]; then \
			echo "Installing system packages:$$missing"; \
			$(SUDO) apt-get update -qq; \
			DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
		fi; \
	else \
		echo "Not a Debian/Ubuntu system: install the equivalents of these packages yourself:"; \
		echo "  $(APT_PACKAGES)"; \
	fi
else
	@echo "$(UNAME): no system packages to install (see README for prerequisites)"
endif

toolchain:
	@command -v $(CARGO) >/dev/null || { echo "Rust is missing: install it from rustup.rs" >&2; exit 1; }
	@command -v node >/dev/null || { echo "Node.js 20.19+ is missing: install it from nodejs.org" >&2; exit 1; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node.js "+process.versions.node+" is too old: 20.19 or newer is needed"); process.exit(1) }'

# npm install (not npm ci: some registry mirrors omit platform-optional
# packages from lock files). A stamp file skips it when nothing changed.
ui-deps: ui/node_modules/.stamp
ui/node_modules/.stamp: ui/package.json ui/package-lock.json
	cd ui && $(NPM) install --no-audit --no-fund
	touch $@

e2e-deps: e2e/node_modules/.stamp
e2e/node_modules/.stamp: e2e/package.json e2e/package-lock.json
	cd e2e && $(NPM) install --no-audit --no-fund
	touch $@

tauri-driver:
	@if ! command -v tauri-driver >/dev/null; then \
		echo "Installing tauri-driver $(TAURI_DRIVER_VERSION)"; \
		$(CARGO) install tauri-driver --locked --version $(TAURI_DRIVER_VERSION); \
	fi

# ---------------------------------------------------------------- build

# The app embeds ui/dist at compile time, so the UI is built first.
ui: ui-deps
	cd ui && $(NPM) run build

build: system-deps toolchain ui
	$(CARGO) build --workspace

# ---------------------------------------------------------------- run

run: build
	$(APP) $(ARGS)

node: build
	$(CLI) node run $(ARGS)

# ---------------------------------------------------------------- test

test: setup fmt-check ui clippy rust-test ui-check e2e

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Inside a D-Bus session with an unlocked keyring: the keystore tests use
# the real Secret Service.
rust-test:
	scripts/with-keyring.sh $(CARGO) test --workspace

ui-check: ui-deps
	cd ui && $(NPM) run typecheck
	cd ui && $(NPM) test

e2e: build e2e-deps tauri-driver
	scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1280x800x24" \
		bash -c 'cd e2e && TALLYMESH_APP="$(CURDIR)/$(APP)" $(NPM) run e2e'

# The ledger simulator beyond the 2,000 seeds `make test` runs: seeded runs
# of many nodes with loss, reordering, partitions, crashes and byzantine
# nodes. A failing seed prints the command that replays it.
SEEDS ?= 100000
sim:
	$(CARGO) run --release -p tallymesh-protocol --example sim -- --seeds $(SEEDS)

# Regenerates ui/src/backend/bindings.ts from the Rust command and event types.
bindings:
	UPDATE_BINDINGS=1 $(CARGO) test --workspace bindings_are_up_to_date

clean:
	$(CARGO) clean
	rm -rf ui/dist ui/node_modules e2e/node_modules e2e/logs e2e/.tmp
