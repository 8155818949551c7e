# tests/: cmocka unit tests (tests/unit/test_*.c, one program each), fuzz
# targets (tests/fuzz/fuzz_*.c, also linked as corpus replayers), and TAP
# integration scripts (tests/*.t) run by prove.

UNIT_TESTS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(wildcard tests/unit/test_*.c))
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
REPLAYERS := $(patsubst %,$(O)/tests/replay_%,$(FUZZ_NAMES))

$(O)/tests/test_%: $(O)/obj/tests/unit/test_%.o $(LOFT_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LAZY_LIBS) $(CMOCKA_LIBS)

# Test-only helper programs (tests/tools/NAME.c), e.g. storetool.
TEST_TOOLS := $(patsubst tests/tools/%.c,$(O)/tests/%,$(wildcard tests/tools/*.c))
$(TEST_TOOLS): $(O)/tests/%: $(O)/obj/tests/tools/%.o $(LOFT_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LAZY_LIBS)

$(O)/tests/replay_%: $(O)/obj/tests/fuzz/fuzz_%.o $(O)/obj/tests/fuzz/replay.o $(LOFT_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LAZY_LIBS)

# Environment every test sees: where the binary is, where the shared corpus is.
TEST_ENV = LOFT=$(abspath $(O)/loft) TOP=$(CURDIR) BUILD=$(abspath $(O)) SHARED=$(SHARED) \
	SANITIZE=$(SANITIZE) ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# The scripts run PROVE_JOBS at a time (they mostly wait on servers and
# screens: 327 s of CPU in 680 s of a serial run), the slowest first so
# that none starts last and holds the run's end (prove keeps the order
# given).  SLOW_TESTS: the slowest of a CI log's `prove --timer` lines,
# longest first; a script not listed runs after them.
PROVE_JOBS ?= 3
SLOW_TESTS := ui_imap_reopen_dovecot ui_imap_reopen sync_daemon_oauth ui_search_stream \
	sieve sync_index_queue sync_kill sync_pull_gaps imap_crash deliver_newscan store \
	sync_mirror index imap_daemon sync_daemon sync_pull_crash sync_status ui_progress \
	daemon_limits bounds sync_daemon_poll relay daemon ui_imap_gaps_dovecot ui_imap_gaps \
	imap_stress
TEST_SCRIPTS := $(filter $(wildcard tests/*.t),$(patsubst %,tests/%.t,$(SLOW_TESTS))) \
	$(filter-out $(patsubst %,tests/%.t,$(SLOW_TESTS)),$(sort $(wildcard tests/*.t)))

# The unit tests also run PROVE_JOBS at a time (each in its own mkdtemp
# directory), their output then printed whole, one after the other.
unit: all $(UNIT_TESTS)
	@rm -f $(UNIT_TESTS:=.out) $(UNIT_TESTS:=.rc)
	@printf '%s\n' $(UNIT_TESTS) | $(TEST_ENV) xargs -P$(PROVE_JOBS) -I{} \
		sh -c '{} > {}.out 2>&1; echo $$? > {}.rc'
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; cat $$t.out; \
		[ "$$(cat $$t.rc)" = 0 ] || { echo "$$t failed (status $$(cat $$t.rc))"; exit 1; }; done

test: all check-layers unit $(REPLAYERS) $(TEST_TOOLS)
	@set -e; for n in $(FUZZ_NAMES); do echo "== replay $$n"; \
		$(TEST_ENV) $(O)/tests/replay_$$n tests/fuzz/corpus/$$n; done
	$(TEST_ENV) prove -f --timer -j$(PROVE_JOBS) $(TEST_SCRIPTS)

# Lower layers never include upper ones (DESIGN.md).  Only client/main.c may
# include ui/ and daemon/; localmta/ and imapd/ never include each other;
# daemon/ includes localmta/, imapd/, store/ and lib/; remote/ includes
# localmta/, store/ and lib/, and only client/ and daemon/ include it.
check-layers:
	@bad=$$( { grep -Hn '#include "\(store\|client\|ui\|imapd\|localmta\|daemon\)/' lib/*.[ch] 2>/dev/null; \
	  grep -Hn '#include "\(client\|ui\|imapd\|localmta\|daemon\)/' store/*.[ch] 2>/dev/null; \
	  grep -Hn '#include "\(ui\|imapd\|localmta\|daemon\)/' $$(ls client/*.[ch] | grep -v '^client/main.c$$') 2>/dev/null; \
	  grep -Hn '#include "\(client\|imapd\|ui\|daemon\)/' localmta/*.[ch] 2>/dev/null; \
	  grep -Hn '#include "\(client\|localmta\|ui\|daemon\)/' imapd/*.[ch] 2>/dev/null; \
	  grep -Hn '#include "\(client\|ui\)/' daemon/*.[ch] 2>/dev/null; \
	  grep -Hn '#include "\(client\|ui\|imapd\|daemon\)/' remote/*.[ch] 2>/dev/null; \
	  grep -Hn '#include "remote/' lib/*.[ch] store/*.[ch] localmta/*.[ch] imapd/*.[ch] ui/*.[ch] 2>/dev/null; \
	  true; } ); \
	if [ -n "$$bad" ]; then echo "layering violation:"; echo "$$bad"; exit 1; fi; echo "layers: ok"

# libFuzzer builds: a separate object tree compiled by clang-14.  The real
# messages in ../shared/corpus (when present) are extra seeds for the mail
# parsers; new inputs go to build/fuzz/corpus/NAME.
FUZZ_CC ?= clang-14
fuzz:
	@./tests/deps.sh fuzz
	@$(MAKE) --no-print-directory FUZZ=1 CC=$(FUZZ_CC) fuzz-build
	@set -e; for n in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz/corpus/$$n; \
		echo "== fuzz $$n for $(FUZZ_SECONDS)s"; \
		build/fuzz/tests/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
		  $$( [ -f tests/fuzz/$$n.dict ] && echo -dict=tests/fuzz/$$n.dict ) \
		  -artifact_prefix=build/fuzz/ build/fuzz/corpus/$$n tests/fuzz/corpus/$$n \
		  $$( [ $$n != mailrc ] && [ -d $(SHARED)/corpus/real ] && echo $(SHARED)/corpus/real ); \
	done

fuzz-build: $(patsubst %,$(O)/tests/fuzz_%,$(FUZZ_NAMES))
$(O)/tests/fuzz_%: $(O)/obj/tests/fuzz/fuzz_%.o $(LOFT_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) $(LAZY_LIBS)
