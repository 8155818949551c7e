# ui/: the curses mail client; its entry point cmd_ui is in ui/ui.h.
LIB_SRC += $(wildcard ui/*.c)
