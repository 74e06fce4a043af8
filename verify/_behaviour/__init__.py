"""Behaviour diff: what a release adds compared with the releases before it.

``archive`` reads distributions safely, ``capabilities`` profiles files, ``metadata`` reads and
compares core metadata, ``census`` compares file lists, ``baseline`` picks the release to
compare with, and ``diff`` turns all of that into findings rated by what is new.
"""
