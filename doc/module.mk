# doc/: man pages, built by `make` and installed by `make install`.
# loft-mailrc(5) gets its settings section from the settings table itself
# (`loft help settings --man`), so it cannot drift.
MAN1 := doc/loft.1
MAN5 := $(O)/doc/loft-mailrc.5 doc/loft-sieve.5
.PHONY: doc
all: doc
doc: $(MAN5)
$(O)/doc/loft-mailrc.5: doc/loft-mailrc.5.in $(O)/loft
	@mkdir -p $(dir $@)
	{ sed '/^@SETTINGS@$$/,$$d' $<; $(O)/loft help settings --man; sed '1,/^@SETTINGS@$$/d' $<; } > $@.tmp
	mv $@.tmp $@
