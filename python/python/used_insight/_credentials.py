"""``AccessToken``: what a credential's ``get_token`` returns, shaped as
azure-core's (a named tuple of ``token`` and ``expires_on``), so code written
for azure-identity reads it unchanged. Its ``repr`` never shows the token.
"""

from __future__ import annotations

# A plain namedtuple at run time: importing typing would make
# `import used_insight` slower (test_package checks it does not).
from collections import namedtuple

__all__ = ["AccessToken"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple

    class AccessToken(NamedTuple):
        """A bearer token and when it expires."""

        token: str
        """The token, as sent in ``Authorization: Bearer …``."""
        expires_on: int
        """When it expires, in seconds since the Unix epoch."""

else:

    class AccessToken(namedtuple("AccessToken", ["token", "expires_on"])):
        """A bearer token (``token``, str) and when it expires
        (``expires_on``, int seconds since the Unix epoch)."""

        __slots__ = ()

        def __repr__(self):
            return f"AccessToken(token=<redacted>, expires_on={self.expires_on!r})"
