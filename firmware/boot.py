# Runs first at every power-up and reset: massager/__init__.py boot() does the work.
try:
    import massager

    massager.boot()
except KeyboardInterrupt:  # a host's Ctrl-C before boot() could take it
    import massager

    massager.interrupted()
except Exception as e:
    print("boot:", e)
