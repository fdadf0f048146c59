"""The command-line interface: one module per subcommand, thin over the public API."""
