# client/: the MUA logic and the sub-commands; main.c is the one entry point.
LIB_SRC += $(filter-out client/main.c,$(wildcard client/*.c))
MAIN_SRC += client/main.c
