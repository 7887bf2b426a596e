# libFuzzer harnesses (fuzz/README.md); included by the top-level Makefile.
#
#   make fuzz                     build every harness, run each FUZZ_TIME s
#   make fuzz FUZZ_TARGETS="sddl wql" FUZZ_TIME=600
#   make fuzz-build               build only: build-fuzz/fuzz_<target>
#
# Like t/unit, the harnesses compile the module's sources directly and link
# them against t/unit/ngx_runtime.c instead of the nginx core (nginx-dev
# ships headers only); everything is built with clang, libFuzzer, ASan and
# UBSan.  Each run starts from the committed seeds in fuzz/corpus/<target>
# and keeps what it finds in build-fuzz/corpus/<target>; crashes, leaks
# and timeouts land in build-fuzz/artifacts/<target>/ and fail the target.

FUZZ_TIME     ?= 60
FUZZ_TIMEOUT  ?= 10
FUZZ_TARGETS  ?= soap sddl wql mime auth_header shell_frame sldc wec_spool
FUZZ_ARGS     ?=
FUZZ_CC       ?= clang
FUZZ_BUILD    := $(CURDIR)/build-fuzz
FUZZ_OBJ      := $(FUZZ_BUILD)/obj
FUZZ_PKGS     := clang libclang-rt-14-dev

FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS   := -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -pipe -W -Wall \
                 -Wpointer-arith -Wno-unused-parameter
FUZZ_SRC_DIRS := src/http src/auth src/soap src/access src/engine \
                 src/plugins/shell src/plugins/shell/host src/plugins/wec
FUZZ_CPPFLAGS := -I$(NGX_SRC)/src/core -I$(NGX_SRC)/src/event \
                 -I$(NGX_SRC)/src/event/modules -I$(NGX_SRC)/src/os/unix \
                 -I$(NGX_SRC)/src/http -I$(NGX_SRC)/src/http/modules \
                 -I$(NGX_SRC)/src/http/v2 -I$(BUILD) -I$(CURDIR)/src \
                 $(addprefix -I$(CURDIR)/,$(FUZZ_SRC_DIRS)) \
                 $(addprefix -I,$(wildcard $(CURDIR)/src/plugins/*/)) \
                 -I/usr/include/libxml2 \
                 -I$(CURDIR)/t/unit -I$(CURDIR)/fuzz
FUZZ_LDLIBS   := -lxml2 -lcrypto -lpam

# the sources each harness needs besides ngx_runtime.c and fuzz_common.c
FUZZ_SRC_soap        := soap prescan xml fault duration util
FUZZ_SRC_sddl        := sddl
FUZZ_SRC_wql         := wql instance
FUZZ_SRC_mime        := mime
FUZZ_SRC_auth_header := auth_header log util
FUZZ_SRC_sldc        := sldc
FUZZ_SRC_wec_spool   := wec_spool_fmt
# the shell plug-in is #included by the harness, for its static parsers;
# the shell host's pieces are linked
FUZZ_SRC_shell_frame := shell_frame soap prescan body xml fault duration sddl util \
                        shell_host shell_host_conn shell_host_shell \
                        shell_host_cmd shell_host_io shell_host_session

FUZZ_HEADERS  := $(wildcard src/*.h src/*/*.h src/plugins/shell/*.h \
                            src/plugins/shell/host/*.h src/plugins/wec/*.h) \
                 t/unit/unit.h \
                 fuzz/fuzz.h $(BUILD)/Makefile

.PHONY: fuzz fuzz-build fuzz-clean deps-fuzz

deps-fuzz:
	@scripts/apt-need $(FUZZ_PKGS)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

# the code under test gets coverage instrumentation, libFuzzer's main()
# comes in at link time only
vpath ngx_wsman_%.c src $(FUZZ_SRC_DIRS)
$(FUZZ_OBJ)/src_%.o: %.c $(FUZZ_HEADERS) | $(FUZZ_OBJ) deps-fuzz
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	    -c -o $@ $<

$(FUZZ_OBJ)/ngx_runtime.o: t/unit/ngx_runtime.c $(FUZZ_HEADERS) \
    | $(FUZZ_OBJ) deps-fuzz
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_OBJ)/fuzz_shell_frame.o: src/plugins/shell/ngx_wsman_shell.c

$(FUZZ_OBJ)/fuzz_%.o: fuzz/fuzz_%.c $(FUZZ_HEADERS) | $(FUZZ_OBJ) deps-fuzz
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -Werror \
	    -fsanitize=fuzzer-no-link -c -o $@ $<

define FUZZ_LINK
$(FUZZ_BUILD)/fuzz_$(1): $(FUZZ_OBJ)/fuzz_$(1).o $(FUZZ_OBJ)/fuzz_common.o \
    $(FUZZ_OBJ)/ngx_runtime.o $(FUZZ_SRC_$(1):%=$(FUZZ_OBJ)/src_ngx_wsman_%.o)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $$@ $$^ $(FUZZ_LDLIBS)
endef

$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_LINK,$(t))))

$(FUZZ_OBJ):
	mkdir -p $@

# One target after the other, each for FUZZ_TIME seconds; all of them run
# even when one fails, so that a run reports every finding at once.  An
# input that takes over FUZZ_TIMEOUT seconds is a finding too.
FUZZ_STATS    := number_of_executed_units|average_exec_per_sec|new_units_added
FUZZ_STATS    := $(FUZZ_STATS)|peak_rss_mb

fuzz: fuzz-build
	@failed=; \
	for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts/$$t; \
	    dict=; \
	    if [ -f fuzz/$$t.dict ]; then dict=-dict=fuzz/$$t.dict; fi; \
	    echo "fuzz_$$t: $(FUZZ_TIME) s, log in" \
	         "$(FUZZ_BUILD)/fuzz_$$t.log"; \
	    if UBSAN_OPTIONS=print_stacktrace=1 \
	       $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_TIME) \
	           -timeout=$(FUZZ_TIMEOUT) -print_final_stats=1 $$dict \
	           -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t/ $(FUZZ_ARGS) \
	           $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t \
	           > $(FUZZ_BUILD)/fuzz_$$t.log 2>&1; \
	    then \
	        grep -E "^stat::($(FUZZ_STATS))" $(FUZZ_BUILD)/fuzz_$$t.log \
	            | sed 's/^stat::/    /'; \
	    else \
	        failed="$$failed $$t"; \
	        grep -E -A40 '^==[0-9]+==|runtime error|assertion failed' \
	            $(FUZZ_BUILD)/fuzz_$$t.log | head -60; \
	    fi; \
	done; \
	if [ -n "$$failed" ]; then \
	    echo "fuzz: findings in:$$failed;" \
	         "inputs in $(FUZZ_BUILD)/artifacts/"; \
	    exit 1; \
	fi; \
	echo "fuzz: no findings"

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

clean: fuzz-clean
