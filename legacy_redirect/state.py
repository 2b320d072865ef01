"""What the legacy host knows after start: settings, deep-link map, metrics, referrer labels."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from legacy_redirect.config import Settings
from legacy_redirect.metrics import VisitMetrics
from legacy_redirect.redirects import RedirectMap, load_redirect_map, resolve_target
from legacy_redirect.referrers import ReferrerLabeller


@dataclass(frozen=True)
class LegacyHost:
    settings: Settings
    redirects: RedirectMap
    metrics: VisitMetrics
    referrers: ReferrerLabeller

    @property
    def instructions_page_url(self) -> str:
        return resolve_target("instructions", self.settings, self.settings.public_url + "/instructions")

    def allowed_locations(self) -> frozenset[str]:
        """Every Location this app may ever send; anything else is a bug and is suppressed."""
        s = self.settings
        fixed = {s.login_url, s.platform_url, s.public_url + "/", self.instructions_page_url}
        return frozenset(fixed) | self.redirects.locations()


def build_state(settings: Settings) -> LegacyHost:
    own_host = urlsplit(settings.public_url).hostname or ""
    return LegacyHost(
        settings=settings,
        redirects=load_redirect_map(settings),
        metrics=VisitMetrics(),
        referrers=ReferrerLabeller(settings.referrer_hosts, own_host),
    )
