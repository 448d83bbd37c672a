# Runs the device after boot.py: massager/__init__.py main() does the work and never
# raises (boot.py imported the package already, or said why it could not).
import massager

massager.main()
