"""Finding one natural person to delegate a matter to, without ever listing people.

Rules (the issue: "exact login name, or exact ID number through the blind index; never a list of
everyone"; SECURITY.md "Personal data"):

* a query matches only by equality: the casefolded login name, or the blind index of the ID number.
  Nothing is a pattern (no ``LIKE``), so ``%``, ``*``, ``_`` or a prefix find nobody;
* every query runs the same single statement whatever it holds, and an unknown person, a legal
  account and a disabled account give the same empty answer, so "not found" tells nothing more;
* results show masked data only (login name, name, ID number) and the real-name status;
* each searcher has :data:`SEARCHES_PER_HOUR` searches an hour (a counter in the short-lived
  store), and every search is in the audit log without the query itself, which may be an ID number.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from idp.accounts import N_
from idp.accounts.models import AccountType, User, username_key
from idp.accounts.services import USERNAME_PATTERN
from idp.audit.services import record
from idp.db import Database
from idp.errors import DomainError, InvalidInput
from idp.orgs.actors import Actor, may_delegate
from idp.realname.identity import IdentityCodec
from idp.realname.masking import MASK, mask_id_number
from idp.realname.models import PersonProfile
from idp.store import EphemeralStore, flow_key

SEARCHES_PER_HOUR = 60
HOUR = 3600
MAX_QUERY = 64
#: More than one account may carry one ID number (none verified yet); never more than this shown.
MAX_RESULTS = 5


class SearchThrottled(DomainError):
    status_code = 429

    def __init__(self) -> None:
        super().__init__(N_("检索过于频繁,请稍后再试。"), "person search over the hourly limit")


@dataclass(frozen=True)
class PersonMatch:
    """A found person as a unit may see them: an opaque id to grant to, and masked data."""

    user_id: str
    login_masked: str
    name_masked: str
    id_number_masked: str | None
    realname_status: str


def mask_login(login: str) -> str:
    """``zhangsan`` -> ``zh*****n``: enough to recognise, not enough to learn a login name."""
    if len(login) <= 3:
        return login[:1] + MASK * max(len(login) - 1, 1)
    return login[:2] + MASK * (len(login) - 3) + login[-1]


def mask_name(name: str | None) -> str:
    """``张伟`` -> ``张*``: the surname stays, the given name is hidden."""
    if not name:
        return ""
    return name[0] + MASK * max(len(name) - 1, 1)


def normalise_query(query: str) -> str:
    text = (query or "").strip()
    if not text or len(text) > MAX_QUERY or not text.isprintable():
        raise InvalidInput(N_("请输入完整的登录名或证件号码。"), "empty, long or unprintable search")
    return text


class PersonSearch:
    def __init__(self, db: Database, store: EphemeralStore, codec: IdentityCodec) -> None:
        self.db = db
        self.store = store
        self.codec = codec

    def find(self, actor: Actor, query: str) -> list[PersonMatch]:
        """Natural persons whose login name or ID number is exactly ``query``."""
        text = normalise_query(query)
        with self.db.transaction() as session:
            may_delegate(session, actor)
        used = self.store.incr(flow_key("orgsearch", actor.name), HOUR)
        if used > SEARCHES_PER_HOUR:
            raise SearchThrottled()
        # Both keys are always computed and asked together: one statement for every query. A text
        # that is no login name gets a key no account has (casefolding and NFKC would otherwise
        # turn some non-ASCII letters into ASCII ones: "ſ" into "s").
        login_key = username_key(text) if USERNAME_PATTERN.fullmatch(text) else ""
        index_keys = self.codec.index_candidates(text)
        with self.db.transaction() as session:
            rows = session.execute(
                select(User, PersonProfile)
                .outerjoin(PersonProfile, PersonProfile.user_id == User.id)
                .where(
                    User.account_type == AccountType.NATURAL.value,
                    User.disabled.is_(False),
                    or_(User.username_key == login_key, PersonProfile.id_number_index.in_(index_keys)),
                )
                .order_by(User.created_at, User.id)
                .limit(MAX_RESULTS)
            ).all()
            record(
                session,
                event="org.person_search",
                actor=actor.name,
                ip=actor.ip,
                request_id=actor.request_id,
                found=len(rows),
            )
        return [self._match(user, profile) for user, profile in rows]

    def _match(self, user: User, profile: PersonProfile | None) -> PersonMatch:
        number = self.codec.open_number(profile.id_number_enc) if profile is not None else None
        return PersonMatch(
            user_id=user.id,
            login_masked=mask_login(user.username),
            name_masked=mask_name(user.name),
            id_number_masked=mask_id_number(number) if number else None,
            realname_status=user.realname_status,
        )
