# Runs first at every power-up and reset: massager/startup.py does the work.
try:
    from massager import startup

    startup.boot()
except KeyboardInterrupt:  # a host's Ctrl-C before boot() could take it
    from massager import startup

    startup.interrupted()
except Exception as e:
    print("boot:", e)
