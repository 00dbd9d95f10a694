"""One module per subcommand: parse options, call the core, hand the results to render."""
