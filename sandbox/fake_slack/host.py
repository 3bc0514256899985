"""What the Web API method modules need of the fake: its workspace, clock and address.

A Protocol rather than the FakeSlack class itself, so the method modules never import the
server that imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .posting_limits import PostingLimits
from .store import Workspace


class Host(Protocol):
    @property
    def workspace(self) -> Workspace: ...

    clock: Callable[[], float]
    posting_limits: PostingLimits | None

    @property
    def base_url(self) -> str: ...
