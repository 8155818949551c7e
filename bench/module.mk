# bench/: side-by-side benchmarks; each bench/NAME.sh prints `bench: ...` lines.
bench:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@set -e; for b in $(if $(BENCH),bench/$(BENCH).sh,$(filter-out bench/lib.sh bench/sync_push.sh,$(wildcard bench/*.sh))); do \
		echo "== $$b"; LOFT=$(abspath $(O)/loft) SHARED=$(SHARED) TOP=$(CURDIR) bash $$b; done
