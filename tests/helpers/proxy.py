"""``pip-verify proxy`` as a real subprocess on 127.0.0.1."""

from __future__ import annotations

import re

from tests.helpers.gate import GateProcess

__all__ = ["ProxyProcess"]


class ProxyProcess(GateProcess):
    """``python -m verify proxy ...`` with ``--listen 127.0.0.1:0``; ``url`` is its root,
    ``index_url`` its simple API."""

    command = "proxy"
    ready_line = re.compile(r"listening on (http://\S+?/)simple/, verifying")

    @property
    def index_url(self) -> str:
        return self.url + "simple/"
