"""Reading distributions: the safe archive reader and the core metadata reader.

``archive`` opens a wheel, sdist or egg without trusting it (``zipread`` and ``tarread`` list
the two container kinds, ``listing`` judges each member's path, kind and size) and ``metadata``
reads a distribution's core metadata from the members it lists. The behaviour diff, ``check``
and ``screen`` all read distributions through this package; it knows nothing of them.
"""
