"""longtail: web crawls to clean, deduplicated per-language corpora for the long tail of languages."""

__version__ = "0.1.0"
