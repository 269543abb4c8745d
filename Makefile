# occam — build, test and run.  `make help` lists the targets.
#
# Switches (override on the command line: `make SANITIZE=1 unit`).
CC        ?= gcc
OPT       ?= -O3 -march=native
SANITIZE  ?= 0
BUILD     ?= build
CONFIG    ?= configs/default.ini
# Test runner options, e.g. TEST_ARGS="--filter data/*".
TEST_ARGS ?=

# Debian's multiarch triplet (x86_64-linux-gnu, aarch64-linux-gnu, ...): the BLIS headers of
# the OpenMP variant and Open MPI's fallback paths live under it.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
MULTIARCH := $(if $(MULTIARCH),$(MULTIARCH),x86_64-linux-gnu)
BLIS_INC  := /usr/include/$(MULTIARCH)/blis-openmp
# Open MPI (Debian's libopenmpi-dev): only src/runtime/comm.c includes <mpi.h>.
MPI_INC   := $(shell pkg-config --cflags-only-I ompi-c 2>/dev/null || echo -I/usr/lib/$(MULTIARCH)/openmpi/include)
MPI_LIBS  := $(shell pkg-config --libs ompi-c 2>/dev/null || echo -lmpi)
# -ffp-contract=off: the same source must give the same bits whatever the compiler fuses;
# bitwise reproducibility is promised for a fixed seed and thread count.
# -fno-math-errno: sqrtf need not set errno, so its loops vectorise (Adam, the noisy moments);
# an IEEE square root is correctly rounded either way, so no result changes.
CFLAGS    := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wpedantic $(OPT) -g -fopenmp \
             -ffp-contract=off -fno-math-errno -Iinclude -isystem $(BLIS_INC) $(MPI_INC:-I%=-isystem %) -MMD -MP
LDLIBS    := -lblis -lhwloc -linih -lsleef -lz -lm $(MPI_LIBS) -fopenmp
ifeq ($(SANITIZE),1)
  BUILD   := build-san
  # gcc's `undefined` leaves out float-cast-overflow (a double out of an integer's range, NaN
  # included, converted to it): named here, and fatal like the rest
  SAN_UB  := undefined,float-cast-overflow
  CFLAGS  += -fsanitize=address,$(SAN_UB) -fno-omit-frame-pointer -fno-sanitize-recover=$(SAN_UB)
  LDLIBS  += -fsanitize=address,$(SAN_UB)
  # quoted twice, for the shell and for the sanitizers' option parser (which splits on spaces
  # and colons): the checkout's path may hold either
  SAN_ENV := LSAN_OPTIONS="suppressions='$(CURDIR)/tools/lsan.supp'"
endif

# Debian packages needed to build, test and run (the dataset included); clang, its runtimes
# (libFuzzer, ASan) and LLVM's OpenMP are for the fuzz harnesses `make test` smoke-runs.
DEB_PKGS  := gcc make pkg-config libblis-dev libhwloc-dev libcriterion-dev libinih-dev libsleef-dev zlib1g-dev \
             dataset-fashion-mnist gnuplot-nox libopenmpi-dev openmpi-bin clang libclang-rt-14-dev libomp-14-dev

LIB_SRC   := $(shell find src -name '*.c' ! -path 'src/cli/*')
CLI_SRC   := $(wildcard src/cli/*.c)
TEST_SRC  := $(wildcard tests/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
# The CLI's modules without main(), for the tests of what lives only in the CLI (the plots).
CLI_MOD_OBJ := $(filter-out $(BUILD)/src/cli/main.o,$(CLI_OBJ))
TEST_OBJ  := $(TEST_SRC:%.c=$(BUILD)/%.o)
# The sanitizer build compiles the tests at -O1 (the library and CLI stay at OPT): the test
# files are most of what it compiles, and at -O3 under ASan and UBSan they took 145 of its 227
# compiler-seconds (tests/test_cli.c alone 21 s, at -O1 10 s). What they run is the library.
ifeq ($(SANITIZE),1)
  TEST_OPT ?= -O1
endif
$(TEST_OBJ): CFLAGS += $(TEST_OPT)

# A hash of the sources and of the macros the compiler defines under the build's flags (its
# version, __FMA__, __AVX512F__, ...: what -march=native means on this host, not the words), which
# `occam --version` prints and the ranks of an MPI job compare first: another build calls other
# collectives in another order, and ranks of two builds waited in different ones for ever. A
# build for a CPU without FMA (OPT="-O3 -march=x86-64-v2") takes libm's vector math, and its
# ranks' weights would drift from an FMA build's.
BUILD_ID_SRC := $(sort $(LIB_SRC) $(CLI_SRC) $(shell find include src -name '*.h'))
# Computed at every make and replaced only when it changes: a source removed or renamed (its
# time kept) left the ID of the tree before, which a clean build of the same sources refused
# as another build; and a source touched alone rebuilt options.o and main.o.
BUILD_ID_OBJ := $(BUILD)/src/cli/options.o $(BUILD)/src/cli/main.o
$(BUILD)/gen/occam_build.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define OCCAM_BUILD_ID "%s"\n' "$$({ cat $(BUILD_ID_SRC); $(CC) $(filter-out -MMD -MP,$(CFLAGS)) -dM -E -x c /dev/null | sort; } | sha256sum | cut -c1-12)" > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
FORCE:
$(BUILD_ID_OBJ): $(BUILD)/gen/occam_build.h
$(BUILD_ID_OBJ): CFLAGS += -I$(BUILD)/gen

.PHONY: all deps run test unit layers help clean
all: $(BUILD)/occam

help:
	@echo "make            build $(BUILD)/occam"
	@echo "make deps       install missing Debian packages (idempotent; needs root or sudo)"
	@echo "make run        deps + build + train $(CONFIG)"
	@echo "make test       deps, the layer check, the Criterion suite, the suite again under ASan + UBSan"
	@echo "                (build-san/), and a 10 s smoke run of every fuzz harness: what CI runs"
	@echo "make layers     check that every include points down the layers (tools/layers.sh --graph)"
	@echo "make unit       build + the Criterion suite only (SANITIZE=1: under ASan + UBSan)"
	@echo "make fuzz       libFuzzer harnesses (clang) for the readers, FUZZ_SECONDS each (default 60)"
	@echo "make fuzz-smoke the same, 5 s each"
	@echo "make fuzz-build build the harnesses only (build-fuzz/)"
	@echo "make fuzz-clean remove build-fuzz/"
	@echo "make clean      remove build directories"

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

run: deps
	$(MAKE) $(BUILD_JOBS) all
	$(BUILD)/occam train $(CONFIG)

test: deps layers
	$(MAKE) SANITIZE=0 unit
	$(MAKE) SANITIZE=1 unit
	$(MAKE) fuzz-smoke

# The builds inside `unit` and `fuzz` compile a file per core unless make was given -j already
# (then they share its job slots): `make test` builds three trees, and one compiler at a time
# spent three of its minutes on 2 cores.
NPROC     := $(shell nproc 2>/dev/null || echo 1)
BUILD_JOBS = $(if $(filter -j%,$(MAKEFLAGS))$(findstring jobserver,$(MAKEFLAGS)),,-j$(NPROC))

# The floor plan: no include points up a layer (tools/layers.sh holds the plan).
layers:
	sh tools/layers.sh

# Criterion runs a test per core, and many tests train on 2 threads: on 2 cores that is twice as
# many threads as cores. libgomp's threads spin at a barrier, and a barrier whose other thread is
# descheduled then costs a time slice; passive waiting sleeps at once. On 2 cores it took the
# plain suite from 2 min 41 s to 1 min 31 s and the sanitizer suite from 5 min 40 s to 4 min 0 s
# (noisy::noisy_weights_generalise_better: 30 s in the suite, 0.4 s alone). Training runs,
# one thread per core, keep libgomp's default.
unit:
	$(MAKE) $(BUILD_JOBS) $(BUILD)/occam $(BUILD)/test_occam
	$(SAN_ENV) OMP_WAIT_POLICY=passive OCCAM_BIN=$(BUILD)/occam $(BUILD)/test_occam $(TEST_ARGS)

$(BUILD)/liboccam.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/occam: $(CLI_OBJ) $(BUILD)/liboccam.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test_occam: $(TEST_OBJ) $(CLI_MOD_OBJ) $(BUILD)/liboccam.a
	$(CC) $(CFLAGS) -o $@ $^ -lcriterion $(LDLIBS)

# fuzz/make_corpus.py's writer of the .occ seeds that use the first layer's grid codes
$(BUILD)/fuzz_seed_grid: $(BUILD)/fuzz/seed_grid.o $(BUILD)/liboccam.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/fuzz/seed_grid.d

# ==== fuzzing (libFuzzer) ======================================================================
# `make fuzz` builds one libFuzzer binary per reader into build-fuzz/ with clang, ASan and UBSan,
# replays the reproducers of the bugs it found before (fuzz/crashes/NAME-*, each must now pass),
# then runs each for $(FUZZ_SECONDS) seconds on a working copy of its seed corpus
# (fuzz/corpus/NAME -> build-fuzz/corpus/NAME, which keeps what the fuzzer finds between runs).
# It fails if any run stops on a crash, leak, sanitizer report, timeout or out-of-memory; the
# input that did it lands in build-fuzz/artifacts/ and the log in build-fuzz/logs/.
# `make fuzz-smoke` is the same with 5 s per harness, for CI (10 s brought `make test` to 14.5
# minutes of its 15 on 2 cores; `make fuzz` runs them for a minute each). The library is
# compiled a second time with clang into build-fuzz/ (never into build/), so `make`/`make test`
# are unaffected.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build-fuzz
FUZZ_NAMES   ?= config idx csv checkpoint occ json plot
FUZZ_ARGS    ?=
# clang's -fopenmp is LLVM's libomp (it also provides the GOMP_* entry points the Debian BLIS
# build calls).
FUZZ_OMP     := -fopenmp
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -ffp-contract=off $(FUZZ_OMP) -Iinclude \
                -isystem $(BLIS_INC) $(MPI_INC:-I%=-isystem %) -MMD -MP
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
# fuzz_plot also links the CLI's plot readers (src/cli/plot_*.c, and shown.c for cli_shown).
FUZZ_PLOT_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(wildcard src/cli/plot_*.c) src/cli/shown.c)
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
# A name with no fuzz/fuzz_NAME.c ended in make's own "No rule to make target".
FUZZ_KNOWN   := $(filter-out util,$(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c)))
FUZZ_UNKNOWN := $(filter-out $(FUZZ_KNOWN),$(FUZZ_NAMES))
ifneq ($(filter fuzz fuzz-smoke fuzz-build fuzz-run-%,$(MAKECMDGOALS)),)
  ifneq ($(FUZZ_UNKNOWN),)
    $(error FUZZ_NAMES: no harness named $(FUZZ_UNKNOWN) (fuzz/fuzz_NAME.c); the harnesses \
            are $(FUZZ_KNOWN))
  endif
endif
FUZZ_LIBS    := -lblis -lhwloc -linih -lsleef -lz -lm $(MPI_LIBS) $(FUZZ_OMP)

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-clean
# Reached only through the pattern rule below, so make would delete them as intermediates.
.SECONDARY: $(FUZZ_LIB_OBJ) $(FUZZ_PLOT_OBJ) $(FUZZ_BUILD)/fuzz/fuzz_util.o
fuzz-build: $(FUZZ_BINS)

# Each harness runs as its own target (fuzz-run-NAME), as many at once as make has job slots
# (a core each): on 2 cores fuzz-smoke takes about 30 s, not 40. A run's output goes to its
# log alone; the summary prints them in the harnesses' order once all have ended.
FUZZ_RUNS := $(FUZZ_NAMES:%=fuzz-run-%)
.PHONY: $(FUZZ_RUNS)
fuzz:
	$(MAKE) $(BUILD_JOBS) fuzz-build
	@mkdir -p $(FUZZ_BUILD)/logs $(FUZZ_BUILD)/artifacts
	@rm -f $(FUZZ_NAMES:%=$(FUZZ_BUILD)/logs/%.summary) $(FUZZ_NAMES:%=$(FUZZ_BUILD)/logs/%.status)
	-@$(MAKE) -k $(BUILD_JOBS) --no-print-directory $(FUZZ_RUNS)
	@failed=""; for n in $(FUZZ_NAMES); do \
	  cat $(FUZZ_BUILD)/logs/$$n.summary 2>/dev/null || echo "fuzz_$$n: did not run"; \
	  grep -qx 'ok' $(FUZZ_BUILD)/logs/$$n.status 2>/dev/null || failed="$$failed $$n"; \
	done; \
	if [ -n "$$failed" ]; then \
	  echo "fuzz: FAILED:$$failed (inputs in $(FUZZ_BUILD)/artifacts/, logs in $(FUZZ_BUILD)/logs/)"; \
	  exit 1; \
	fi; echo "fuzz: all $(words $(FUZZ_NAMES)) harnesses clean"

# One harness: replay the fixed bugs' reproducers, then fuzz for $(FUZZ_SECONDS) s. What it has
# to say goes to logs/NAME.summary, and "ok" or "failed" to logs/NAME.status.
$(FUZZ_RUNS): fuzz-run-%:
	@n=$*; sum=$(FUZZ_BUILD)/logs/$$n.summary; st=ok; : > $$sum; \
	mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	cp -n fuzz/corpus/$$n/* $(FUZZ_BUILD)/corpus/$$n/ 2>/dev/null; \
	for c in fuzz/crashes/$$n-*; do [ -e "$$c" ] || continue; \
	  if ! $(FUZZ_BUILD)/fuzz_$$n -timeout=30 -rss_limit_mb=2048 "$$c" \
	       > $(FUZZ_BUILD)/logs/$$n-replay.log 2>&1; then \
	    { echo "fuzz_$$n: the fixed bug's reproducer $$c fails again"; \
	      tail -n 30 $(FUZZ_BUILD)/logs/$$n-replay.log; } >> $$sum; st=failed; fi; \
	done; \
	echo "fuzz_$$n: $(FUZZ_SECONDS) s" >> $$sum; \
	if $(FUZZ_BUILD)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=30 \
	     -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$n- $(FUZZ_ARGS) \
	     $(FUZZ_BUILD)/corpus/$$n > $(FUZZ_BUILD)/logs/$$n.log 2>&1; then \
	  { grep -E '^#[0-9]+[[:space:]]+DONE' $(FUZZ_BUILD)/logs/$$n.log | tail -n 1; \
	    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
	      $(FUZZ_BUILD)/logs/$$n.log | tr '\n' ' '; echo; } >> $$sum; \
	else \
	  { awk '/^(fuzz: |==[0-9]+==|occam: internal error|INFO: libFuzzer)|runtime error:/ {on = 1} \
	         on && k++ < 100 {print} END {if (!k) exit 1}' $(FUZZ_BUILD)/logs/$$n.log || \
	      tail -n 5 $(FUZZ_BUILD)/logs/$$n.log; \
	    grep -E '^(artifact_prefix|stat::)' $(FUZZ_BUILD)/logs/$$n.log; } >> $$sum; st=failed; \
	fi; \
	echo $$st > $(FUZZ_BUILD)/logs/$$n.status; [ $$st = ok ]

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=5

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_BUILD)/fuzz/fuzz_util.o $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $(filter %.c %.o,$^) $(FUZZ_LIBS)

$(FUZZ_BUILD)/fuzz_plot: $(FUZZ_PLOT_OBJ)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c -o $@ $<

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_PLOT_OBJ:.o=.d) $(FUZZ_BUILD)/fuzz/fuzz_util.d $(FUZZ_BINS:=.d)
# ==== end of fuzzing ============================================================================
