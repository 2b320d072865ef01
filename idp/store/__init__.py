"""Short-lived state behind one small interface (codes, SSO sessions, captchas, counters, nonces).

The configuration URL picks the adapter: ``redis://`` / ``rediss://`` / ``redis+sentinel://`` for
Redis, empty for the embedded SQL table that works across worker processes. Every adapter raises
:class:`idp.errors.StoreUnavailable` on connection trouble so callers fail closed.
"""

from idp.store.protocol import EphemeralStore, flow_key, open_store

__all__ = ["EphemeralStore", "flow_key", "open_store"]
