# ngx_wsman — build, run and test against Debian's packaged nginx.
#
#   make        build build/ngx_wsman_module.so (configure runs once)
#   make run    demo server on 127.0.0.1:5985 (foreground)
#   make test   the whole test suite (unit + integration, real clients)
#   make unit [GROUP=name]   C unit tests only (without GROUP: also built
#               without SSE2, t/unit/Makefile's plain); make integration
#   make lint | soak | fuzz | sanitize   more checks (README.md)
#   make bench  measurements, never pass or fail (bench/RESULTS.md)
#   make plugin-example   the module with t/plugin_example/ built in
#   make clean

SHELL      := /bin/bash
NGX_SRC    ?= /usr/share/nginx/src
NGINX      ?= /usr/sbin/nginx
PYTHON     ?= /usr/bin/python3
BUILD      := $(CURDIR)/build
MODULE     := $(BUILD)/ngx_wsman_module.so
NODE_STAMP := t/node/node_modules/.ngx_wsman_installed
SOURCES    := $(wildcard src/*.[ch] src/*/*.[ch] src/plugins/*/*.[ch] \
                          src/plugins/*/*/*.[ch])

# Debian packages each target needs; installed on demand by deps-*.
BUILD_PKGS := nginx nginx-dev build-essential pkg-config libxml2-dev \
              libssl-dev libkrb5-dev libpcre2-dev zlib1g-dev libcrypt-dev \
              libpam0g-dev libfreeipmi-dev \
              libhiredis-dev librdkafka-dev libsqlite3-dev libpq-dev
RUN_PKGS   := nginx curl
TEST_PKGS  := python3 python3-pytest python3-winrm python3-requests curl \
              wsl uuid-runtime openssl libxml2-utils \
              krb5-kdc krb5-admin-server krb5-user gss-ntlmssp \
              python3-gssapi python3-requests-ntlm python3-requests-kerberos \
              golang-go golang-github-masterzen-winrm-dev libpam-modules \
              openipmi freeipmi-tools valgrind ansible-core strace \
              redis-server redis-tools kcat \
              rsyslog rsyslog-openssl postgresql sqlite3

.PHONY: all run test unit integration sanitize bench deps-build deps-run \
        deps-test clean plugin-example

all: $(MODULE)

# configure only when the addon script changes; editing a .c file reruns
# nothing but the compiler for that file
# nginx's configure with Debian's own flags (conf_flags: --with-compat and
# the rest of the packaged build), this module as a dynamic addon:
#   $(call ngx_configure,BUILDDIR,CC-OPT,LD-OPT[,ENVIRONMENT])
ngx_configure = mkdir -p $(1) && cd $(NGX_SRC) && . ./conf_flags \
    && $(4) ./configure --with-cc-opt="$(2)" --with-ld-opt="$(3)" \
    "$${NGX_CONF_FLAGS[@]}" --add-dynamic-module=$(CURDIR) \
    --builddir=$(1) > $(1)/configure.log 2>&1 \
    || { tail -30 $(1)/configure.log; exit 1; }

# the packaged build's flags (hardening, -O2) plus -Werror
# (recursive: the shell, not make, runs dpkg-buildflags)
RELEASE_CC_OPT  = $$(dpkg-buildflags --get CFLAGS) -fPIC \
                  $$(dpkg-buildflags --get CPPFLAGS) -Werror
RELEASE_LD_OPT  = $$(dpkg-buildflags --get LDFLAGS) -fPIC

$(BUILD)/Makefile: config $(wildcard src/plugins/*/config) | deps-build
	$(call ngx_configure,$(BUILD),$(RELEASE_CC_OPT),$(RELEASE_LD_OPT))

$(MODULE): $(BUILD)/Makefile $(SOURCES)
	$(MAKE) -f $(BUILD)/Makefile -C $(NGX_SRC) modules

deps-build:
	@scripts/apt-need $(BUILD_PKGS)

deps-run:
	@scripts/apt-need $(RUN_PKGS)

# the KDC packages ask questions on install unless debconf already knows
deps-test: $(NODE_STAMP)
	@dpkg-query -W -f='$${Status}' krb5-kdc 2>/dev/null \
	    | grep -q "ok installed" || debconf-set-selections t/krb5-preseed.txt
	@scripts/apt-need $(TEST_PKGS)

# quickstart.conf runs the workers as Debian's www-data and demo commands
# as the unprivileged account wsman-demo (created here when missing); the
# workers open the user file by its full path (again after each edit), so
# the clone must be readable by www-data (not under a private home
# directory)
RUN_FLAGS  := -p $(CURDIR)/ -c conf.examples/quickstart.conf \
              -e $(BUILD)/run/error.log -g 'daemon off;'
DEMO_USER  := wsman-demo

run: deps-run $(MODULE)
	mkdir -p $(BUILD)/run
	@if [ "$$(id -u)" -eq 0 ]; then \
	    id -u $(DEMO_USER) >/dev/null 2>&1 \
	    || useradd --system --no-create-home --home-dir /nonexistent \
	               --shell /bin/sh $(DEMO_USER) || exit 1; \
	    setpriv --reuid=www-data --regid=www-data --clear-groups \
	        test -r $(CURDIR)/conf.examples/demo.htpasswd \
	    || { echo "www-data cannot read $(CURDIR)/conf.examples:" \
	              "clone the project where other users can read it"; \
	         exit 1; }; \
	else \
	    echo "not root: workers run as $$(id -un); remote commands" \
	         "need root (they never run as the workers' account)"; \
	fi
	$(NGINX) $(RUN_FLAGS) -t
	@echo "ngx_wsman demo: http://127.0.0.1:5985/wsman" \
	      "(user demo, password Demo-Passw0rd); Ctrl-C stops it"
	exec $(NGINX) $(RUN_FLAGS)

unit: deps-test $(MODULE)
	$(MAKE) -C t/unit BUILD=$(BUILD) NGX_SRC=$(NGX_SRC) GROUP=$(GROUP)
	$(if $(GROUP),,$(MAKE) -C t/unit BUILD=$(BUILD) NGX_SRC=$(NGX_SRC) plain)

integration: deps-test $(MODULE)
	WSMAN_SO=$(MODULE) $(PYTHON) -m pytest -q t/

test: unit integration

# The module with the tests' example plug-in (t/plugin_example/) added
# through NGX_WSMAN_PLUGINS, the way an out-of-tree plug-in is built;
# t/test_plugin_example.py runs it.
EXAMPLE_BUILD := $(CURDIR)/build-example
EXAMPLE_SRCS  := $(wildcard t/plugin_example/*.[ch])

$(EXAMPLE_BUILD)/Makefile: config $(wildcard src/plugins/*/config) \
    t/plugin_example/config | deps-build
	$(call ngx_configure,$(EXAMPLE_BUILD),$(RELEASE_CC_OPT),\
	    $(RELEASE_LD_OPT),NGX_WSMAN_PLUGINS=$(CURDIR)/t/plugin_example)

$(EXAMPLE_BUILD)/ngx_wsman_module.so: $(EXAMPLE_BUILD)/Makefile $(SOURCES) \
    $(EXAMPLE_SRCS)
	$(MAKE) -f $(EXAMPLE_BUILD)/Makefile -C $(NGX_SRC) modules

plugin-example: $(EXAMPLE_BUILD)/ngx_wsman_module.so

# the npm clients (t/test_node_clients.py) go into t/node/node_modules,
# exactly as package-lock.json pins them; never installed globally.
# Debian's nodejs and npm unless a node with npm is there already
$(NODE_STAMP): t/node/package.json t/node/package-lock.json
	@command -v npm >/dev/null 2>&1 || scripts/apt-need nodejs npm
	cd t/node && npm ci --no-audit --no-fund
	touch $@

# measurements, never pass/fail: see bench/RESULTS.md
bench: deps-test $(MODULE)
	@scripts/apt-need wrk
	$(PYTHON) bench/wrk_bench.py $(MODULE)
	$(PYTHON) bench/wec_bench.py $(MODULE)

include bench/soak.mk

# The module built with AddressSanitizer + UBSan, loaded into the packaged
# (uninstrumented) nginx with the ASan runtime preloaded into nginx only,
# and the whole integration suite run against it.  Reports land in
# build-asan/reports/; any report fails the target.
ASAN_BUILD := $(CURDIR)/build-asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined

$(ASAN_BUILD)/Makefile: config $(wildcard src/plugins/*/config) \
    | deps-build
	$(call ngx_configure,$(ASAN_BUILD),-g -O1 -fPIC $(ASAN_FLAGS) -Werror,\
	    -fPIC $(ASAN_FLAGS))

$(ASAN_BUILD)/ngx_wsman_module.so: $(ASAN_BUILD)/Makefile $(SOURCES)
	$(MAKE) -f $(ASAN_BUILD)/Makefile -C $(NGX_SRC) modules

# the unit tests under ASan, UBSan and LeakSanitizer (they free all they
# allocate), then the whole suite against the sanitized module
sanitize: deps-test $(ASAN_BUILD)/ngx_wsman_module.so
	ASAN_OPTIONS=detect_leaks=1 $(MAKE) -C t/unit BUILD=$(ASAN_BUILD) \
	    NGX_SRC=$(NGX_SRC) BIN=$(ASAN_BUILD)/test_unit \
	    CFLAGS="-g -O1 $(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)"
	rm -rf $(ASAN_BUILD)/reports && mkdir -p -m 1777 $(ASAN_BUILD)/reports
	WSMAN_SO=$(ASAN_BUILD)/ngx_wsman_module.so \
	WSMAN_NGINX_PRELOAD="$$(gcc -print-file-name=libasan.so) \
	                     $$(gcc -print-file-name=libubsan.so)" \
	WSMAN_NGINX_ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:log_path=$(ASAN_BUILD)/reports/asan" \
	WSMAN_NGINX_UBSAN_OPTIONS="print_stacktrace=1:log_path=$(ASAN_BUILD)/reports/ubsan" \
	    $(PYTHON) -m pytest -q $(or $(SANITIZE_TESTS),t/)
	@if ls $(ASAN_BUILD)/reports/* >/dev/null 2>&1; then \
	    echo "sanitizer reports:"; head -50 $(ASAN_BUILD)/reports/*; exit 1; \
	else echo "sanitizers: no reports"; fi

# libFuzzer harnesses: make fuzz [FUZZ_TIME=60] (fuzz/README.md)
include fuzz/fuzz.mk

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(EXAMPLE_BUILD)

include scripts/lint.mk    # make lint: cppcheck and clang-tidy
