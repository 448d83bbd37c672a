# Runs first at every power-up and reset, soft resets included (mpremote does one on
# connecting). Hold the button while powering up for safe mode: only the built-in
# routines run, whatever is in /routines. Never formats anything.
try:
    import massager
    from massager.hal.board import Board, load_config

    config, _ = load_config()
    board = Board(config)
    board.all_off()  # the motor pin may float high until told otherwise
    # A watchdog armed before this soft reset still runs: feed it until main.py's loop
    # takes over, or for as long as mpremote keeps the board at its REPL.
    board.watchdog.keep()
    # A deep-sleep wake (esp32) is the button press itself, not a press held at power-up.
    massager.SAFE_MODE = board.button.is_pressed() and not board.power.woke_from_sleep()
    if massager.SAFE_MODE:
        board.show_safe_mode()
    del board, config
except Exception as e:  # a broken firmware must still leave the REPL to mpremote
    print("boot:", e)
