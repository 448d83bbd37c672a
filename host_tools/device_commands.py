# Subcommands that talk to a device over USB (mpremote). Registered by cli.build_parser.


def add_parsers(sub):
    """Add the device subcommands to the `massager` parser."""
