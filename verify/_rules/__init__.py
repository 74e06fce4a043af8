"""The vocabulary findings are filed under, below every concern that files or reads them.

``behaviour`` lists the behaviour finding ids with their summaries and default severities;
``severity`` orders the severity scale. The archive and metadata readers (``_dist``), the
behaviour analysis (``_behaviour``), the policy and the renderers all share them, so they sit
with the models at the bottom of the layers (see :mod:`verify`).
"""
