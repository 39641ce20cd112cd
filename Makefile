# dhcpd-ts build, test and run targets. `make test` is the test command (README, .ci/run).
SHELL := /bin/bash
PREFIX ?= /usr/local
DESTDIR ?=
NODE ?= node
# Debian packages the tests and the demo use: real clients, real ISC dhcpd as oracle and partner.
DEBIAN_PACKAGES := isc-dhcp-server isc-dhcp-client udhcpc dhcpcd-base kea-admin isc-dhcp-relay \
	dhcpd-pools tcpdump iproute2 procps
TEST_FILES = $(shell find dist/test -name '*.test.js' 2>/dev/null | sort)

.PHONY: all deps system-deps addon build test test-unit demo bench soak clean install

all: build

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
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

addon: deps
	@if [ -f src/native/binding.gyp ]; then \
	  nodedir=""; [ -f /usr/include/node/node_api.h ] && nodedir="--nodedir=/usr"; \
	  cd src/native && ../../node_modules/.bin/node-gyp rebuild --loglevel=warn $$nodedir; fi

build: deps addon
	rm -rf dist
	node_modules/.bin/tsc -p .

# Unit tests only (no root, no network namespaces).
test-unit: build
	$(NODE) --test --test-reporter=spec $$(find dist/test -name '*.test.js' -not -path '*/integration/*' | sort)

test: system-deps build
	$(NODE) --test --test-reporter=spec --test-concurrency=1 $(TEST_FILES)

clean:
	rm -rf dist src/native/build

# Benchmarks beside ISC dhcpd and Kea (bench/README.md). Root; takes minutes.
bench: system-deps build
	bash bench/run.sh $(BENCH_ARGS)

# The seed scenario, live, in network namespaces (README). Root.
demo: system-deps build
	bash bin/demo

# Long hostile-input, crash and overload runs (soak/README.md). Root; prints its figures.
soak: system-deps build
	bash soak/run.sh $(SOAK_ARGS)
