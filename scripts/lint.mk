# make lint: cppcheck and clang-tidy over src/;
# any finding fails the target.  Included by the top Makefile (it uses
# NGX_SRC, BUILD and MODULE from there).  clang-tidy's checks are in
# .clang-tidy, cppcheck's below.  Both need the build's ngx_auto_config.h,
# hence the module build first.
#
#   make lint            both (clang-tidy takes about two CPU-minutes)
#   make lint-cppcheck   cppcheck only
#   make lint-tidy LINT_TIDY_SRCS=src/engine/ngx_wsman_wql.c   some files only
#
# A false positive is suppressed on its line, with the reason:
#   /* NOLINTNEXTLINE(check-name) */  or  /* cppcheck-suppress id */

LINT_PKGS      := cppcheck clang-tidy
LINT_JOBS      ?= 2

LINT_INCS      := $(addprefix -I $(CURDIR)/, src src/http src/auth \
                      src/soap src/access src/engine) \
                  $(addprefix -I $(CURDIR)/, $(wildcard src/plugins/*)) \
                  -I $(CURDIR)/src/plugins/shell/host \
                  $(addprefix -I $(NGX_SRC)/src/, core event event/modules \
                      os/unix http http/modules http/v2) \
                  -I $(BUILD) -I /usr/include/libxml2 -I /usr/include/postgresql

# every source, the plug-ins' too
LINT_TIDY_SRCS ?= $(wildcard src/*.c src/*/*.c src/plugins/*/*.c \
                              src/plugins/*/*/*.c)

# Off, and why:
#   variableScope     nginx style declares every variable at the top of
#                     its function
#   constParameter    nginx passes u_char * buffers and ngx_str_t * without
#                     const throughout; it also fires in nginx's headers
#   knownConditionTrueFalse
#                     cppcheck 2.10 takes n = (len > 256) ? 256 : len, the
#                     ngx_min() idiom, as "less than 1" and calls i < n
#                     always false; all four of its reports were wrong
#   nginx's own headers are not ours to fix
LINT_CPPCHECK  := cppcheck --quiet -j$(LINT_JOBS) --max-configs=1 --std=c99 \
                  --enable=warning,style,performance,portability \
                  --inline-suppr --error-exitcode=1 \
                  --suppress=missingIncludeSystem --suppress=missingInclude \
                  --suppress=variableScope --suppress=constParameter \
                  --suppress=knownConditionTrueFalse \
                  --suppress='*:$(NGX_SRC)/*'

# one file per clang-tidy, LINT_JOBS at a time; a file's report is printed
# in one piece and without the compiler's "N warnings generated." line
LINT_NOISE     := ^([0-9]+ (warnings?|errors?)( and)? )+generated\.$$|^$$
LINT_TIDY_ONE  := out=$$(clang-tidy --quiet --warnings-as-errors="*" "$$1" \
                      -- $(LINT_INCS) -D_GNU_SOURCE 2>&1); rc=$$?; \
                  printf "%s\n" "$$out" | grep -Ev "$(LINT_NOISE)"; \
                  exit $$rc

.PHONY: lint lint-cppcheck lint-tidy deps-lint

lint: lint-cppcheck lint-tidy

lint-cppcheck: deps-lint $(MODULE)
	$(LINT_CPPCHECK) $(LINT_INCS) src

lint-tidy: deps-lint $(MODULE)
	@echo "clang-tidy: $(words $(LINT_TIDY_SRCS)) files, $(LINT_JOBS) at a time"
	@printf '%s\n' $(LINT_TIDY_SRCS) \
	    | xargs -P$(LINT_JOBS) -n1 sh -c '$(LINT_TIDY_ONE)' lint-tidy

deps-lint:
	@scripts/apt-need $(LINT_PKGS)
