"""Builds the real-name services from the application's settings and stores."""

from __future__ import annotations

from idp.context import Services
from idp.realname.identity import IdentityCodec
from idp.realname.review import ReviewService
from idp.realname.services import ProfileService
from idp.realname.source import NationalSourceClient


def profile_service(svc: Services) -> ProfileService:
    built: ProfileService | None = svc.extras.get("profile_service")
    if built is None:
        settings = svc.settings
        source = NationalSourceClient(
            settings.realname_source_url,
            settings.realname_source_token,
            timeout=settings.realname_timeout,
            allow_private=settings.allow_private_egress,
        )
        built = ProfileService(svc.db, svc.store, IdentityCodec(settings), source)
        svc.extras["profile_service"] = built
    return built


def review_service(svc: Services) -> ReviewService:
    built: ReviewService | None = svc.extras.get("review_service")
    if built is None:
        built = ReviewService(svc.db, IdentityCodec(svc.settings))
        svc.extras["review_service"] = built
    return built
