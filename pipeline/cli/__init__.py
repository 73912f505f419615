"""The ``longtail`` command line: ``main`` parses, one module per group of subcommands registers its parsers."""
