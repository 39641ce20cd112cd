# dhcpd-ts build, test and run targets. `make test` is the test command (README, .ci/run).
SHELL := /bin/bash
PREFIX ?= /usr/local
DESTDIR ?=
NODE ?= node
# Debian packages the tests and the demo use: real clients, real ISC dhcpd as oracle and partner.
DEBIAN_PACKAGES := isc-dhcp-server isc-dhcp-client udhcpc dhcpcd-base kea-admin isc-dhcp-relay \
	dhcpd-pools tcpdump iproute2 procps klibc-utils e2fsprogs systemd

.PHONY: all deps system-deps addon build test test-unit demo bench soak clean install install-files

all: build

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --prefer-offline --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

# Installs what is missing, with a policy-rc.d so that no package starts a service on the host.
system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "need root to install:$$missing" >&2; exit 1; fi; \
	  created=""; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created=1; fi; \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing) </dev/null; rc=$$?; \
	  [ -n "$$created" ] && rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi

ADDON := src/native/build/Release/dhcpsock.node
$(ADDON): src/native/binding.gyp $(wildcard src/native/*.cc src/native/*.h) | node_modules/.package-lock.json
	nodedir=""; [ -f /usr/include/node/node_api.h ] && nodedir="--nodedir=/usr"; \
	cd src/native && ../../node_modules/.bin/node-gyp rebuild --loglevel=warn $$nodedir

addon: deps $(ADDON)

# Compiled to a fresh folder, then swapped in, so a running server or test never sees a half-built dist/.
build: deps addon
	rm -rf dist.new
	node_modules/.bin/tsc -p . --outDir dist.new
	# The start-up snapshot bin/dhcpd-ts runs (tools/build-startup.mjs); without one it runs dist/ as is.
	$(NODE) tools/build-startup.mjs dist.new || echo "WARNING: no start-up snapshot: bin/dhcpd-ts will run dist/src/cli/main.js" >&2
	rm -rf dist && mv dist.new dist

# Unit tests only (no root, no network namespaces).
test-unit: build
	$(NODE) --test --test-reporter=spec $$(find dist/test -name '*.test.js' -not -path '*/integration/*' | sort)

# Every dist/test/**/*.test.js: most files TEST_JOBS at a time (they wait on timers, clients and ISC dhcpd in
# namespaces of their own), then the load and latency tests one at a time (the list and the reasons are in
# test/support/suite-run.ts). TEST_JOBS=1 runs everything one at a time.
TEST_JOBS ?= 4
test: system-deps build
	TEST_JOBS=$(TEST_JOBS) $(NODE) dist/test/support/suite-run.js

clean:
	rm -rf dist src/native/build

# Benchmarks beside ISC dhcpd and Kea (bench/README.md). Root; takes minutes.
bench: system-deps build
	-$(MAKE) -s system-deps DEBIAN_PACKAGES="sqlite3 kea-dhcp4-server"
	bash bench/run.sh $(BENCH_ARGS)

# The seed scenario, live, in network namespaces (README). Root.
demo: system-deps build
	bash bin/demo

# Long hostile-input, crash and overload runs (soak/README.md). Root; prints its figures.
soak: system-deps build
	bash soak/run.sh $(SOAK_ARGS)

# Installs dhcpd-ts with its native addon and production dependencies only:
#   $(PREFIX)/lib/dhcpd-ts/{bin,dist,src/native/build/Release,node_modules,package.json}
#   $(PREFIX)/sbin/dhcpd-ts -> ../lib/dhcpd-ts/bin/dhcpd-ts (relative, so DESTDIR staging works)
LIBDIR = $(DESTDIR)$(PREFIX)/lib/dhcpd-ts
install: build install-files

# The copy step alone (tests call it against an existing build).
install-files:
	rm -rf "$(LIBDIR)"
	install -d "$(LIBDIR)/bin" "$(LIBDIR)/src/native/build/Release" "$(DESTDIR)$(PREFIX)/sbin"
	# The launcher names node by its absolute path: init scripts and systemd run it with their own PATH.
	# (dist/ holds the start-up snapshot, dist/src/cli/dhcpd-ts.{blob,stamp}: made by this node, it stays valid.)
	sed 's|^node=node$$|node=$(shell command -v $(NODE))|' bin/dhcpd-ts > "$(LIBDIR)/bin/dhcpd-ts"
	chmod 0755 "$(LIBDIR)/bin/dhcpd-ts"
	cp -a dist "$(LIBDIR)/dist"
	rm -rf "$(LIBDIR)/dist/test" "$(LIBDIR)/dist/bench"
	install -m 0755 src/native/build/Release/dhcpsock.node "$(LIBDIR)/src/native/build/Release/"
	cp package.json package-lock.json "$(LIBDIR)/"
	cp -a node_modules "$(LIBDIR)/node_modules"
	cd "$(LIBDIR)" && npm prune --omit=dev --no-audit --no-fund >/dev/null
	ln -sfn ../lib/dhcpd-ts/bin/dhcpd-ts "$(DESTDIR)$(PREFIX)/sbin/dhcpd-ts"
	@echo "installed $(DESTDIR)$(PREFIX)/sbin/dhcpd-ts"
