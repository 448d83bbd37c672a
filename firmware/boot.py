# Runs first at every power-up and reset, soft resets included (mpremote does one on
# connecting). Hold the button while powering up for safe mode: only the built-in
# routines run, whatever is in /routines. Never formats anything.


def _board():
    from massager.hal.board import Board, load_config

    board = Board(load_config()[0])
    board.all_off()  # the motor pin may float high until told otherwise
    # A watchdog armed before this soft reset still runs: feed it until main.py's loop
    # takes over, or for as long as mpremote keeps the board at its REPL.
    board.watchdog.keep()
    return board


try:
    import massager

    _b = _board()
    # A deep-sleep wake (esp32) is the button press itself, not a press held at power-up.
    massager.SAFE_MODE = _b.button.is_pressed() and not _b.power.woke_from_sleep()
    if massager.SAFE_MODE:
        _b.show_safe_mode()
    del _b
except KeyboardInterrupt:
    # A host's Ctrl-C (mpremote connecting right after a reset) landed here. The port
    # would still run main.py, which would swallow the host's next bytes: tell it not to,
    # and keep an armed watchdog fed all the same.
    import massager

    massager.INTERRUPTED = True
    try:
        _board()
    except Exception:
        pass
except Exception as e:  # a broken firmware must still leave the REPL to mpremote
    print("boot:", e)
del _board
