"""massager host tools: the `massager` command."""
