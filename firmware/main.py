# Runs the device after boot.py: massager/startup.py does the work.
try:
    from massager import startup

    startup.main()
except KeyboardInterrupt:
    print("massager: stopped, REPL free")
except Exception as e:
    print("massager: not running:", e)
