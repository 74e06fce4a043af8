"""Behaviour diff: what a release adds compared with the releases before it.

Distributions are read through :mod:`verify._dist` (the safe archive reader and the core
metadata reader). Here ``capabilities`` profiles files, ``metadata_diff`` compares core
metadata, ``census`` compares file lists, ``baseline`` picks the release to compare with, and
``diff`` turns all of that into findings rated by what is new.
"""
