"""onrecord's archive and everything that reads it.

Importing this package is cheap: heavy libraries (torch, Chroma, sentence-transformers) load lazily,
the first time something needs them.
"""
