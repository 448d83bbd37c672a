# Thin: run the device. Any failure turns the motor off, is logged to /error.log and
# leaves the REPL free for mpremote; it never resets, so it can never reboot-loop.
try:
    import massager

    if getattr(massager, "INTERRUPTED", False):
        raise KeyboardInterrupt  # stopped in boot.py by a host: the REPL is the host's
    from massager import runtime

    runtime.main(safe_mode=getattr(massager, "SAFE_MODE", False),
                 booted=getattr(massager, "BOOTED", None))
except KeyboardInterrupt:
    print("massager: stopped, REPL free")
except Exception as e:
    print("massager: not running:", e)
