# Runs the device after boot.py: massager/__init__.py main() does the work.
try:
    import massager

    massager.main()
except KeyboardInterrupt:
    print("massager: stopped, REPL free")
except Exception as e:
    print("massager: not running:", e)
