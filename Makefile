# occam — build, test and run.  `make help` lists the targets.
#
# Switches (override on the command line: `make SANITIZE=1 test`).
CC        ?= gcc
OPT       ?= -O3 -march=native
SANITIZE  ?= 0
BUILD     ?= build
CONFIG    ?= configs/default.ini
# Test runner options, e.g. TEST_ARGS="--filter data/*".
TEST_ARGS ?=

BLIS_INC  := /usr/include/x86_64-linux-gnu/blis-openmp
# -ffp-contract=off: the same source must give the same bits whatever the compiler fuses;
# bitwise reproducibility is promised for a fixed seed and thread count.
CFLAGS    := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wpedantic $(OPT) -g -fopenmp \
             -ffp-contract=off -Iinclude -isystem $(BLIS_INC) -MMD -MP
LDLIBS    := -lblis -lhwloc -linih -lz -lm -fopenmp
ifeq ($(SANITIZE),1)
  BUILD   := build-san
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDLIBS  += -fsanitize=address,undefined
endif

# Debian packages needed to build, test and run (the dataset included).
DEB_PKGS  := gcc make libblis-dev libhwloc-dev libcriterion-dev libinih-dev zlib1g-dev \
             dataset-fashion-mnist gnuplot-nox

LIB_SRC   := $(shell find src -name '*.c' ! -path 'src/cli/*')
CLI_SRC   := $(wildcard src/cli/*.c)
TEST_SRC  := $(wildcard tests/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ  := $(TEST_SRC:%.c=$(BUILD)/%.o)

.PHONY: all deps run test help clean
all: $(BUILD)/occam

help:
	@echo "make            build $(BUILD)/occam"
	@echo "make deps       install missing Debian packages (idempotent; needs root or sudo)"
	@echo "make run        deps + build + train $(CONFIG)"
	@echo "make test       deps + build + run the Criterion suite"
	@echo "make SANITIZE=1 test   the suite under ASan + UBSan (builds into build-san/)"
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
	$(MAKE) all
	$(BUILD)/occam train $(CONFIG)

test: deps
	$(MAKE) $(BUILD)/occam $(BUILD)/test_occam
	OCCAM_BIN=$(BUILD)/occam $(BUILD)/test_occam $(TEST_ARGS)

$(BUILD)/liboccam.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/occam: $(CLI_OBJ) $(BUILD)/liboccam.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test_occam: $(TEST_OBJ) $(BUILD)/liboccam.a
	$(CC) $(CFLAGS) -o $@ $^ -lcriterion $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
