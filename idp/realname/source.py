"""The adapter to the national real-name verification source (an external HTTP service).

HTTP contract (the simulator in ``national_source/`` implements the same)::

    POST {base}/v1/verify
    Authorization: Bearer <token>
    Content-Type: application/json

    {"name": "张三", "id_number": "11010519491231002X", "birth_date": "1949-12-31"}

    200 {"result": "match" | "mismatch" | "not_found", "reference": "<source's reference>"}
    400 malformed request, 401 missing or wrong token, 5xx source trouble
    (error bodies are ``{"error": "<code>"}`` and carry no meaning for the adapter)

SECURITY.md "Real-name verification": the ID number is validated before any call out; when the
source is down, slow or answers nonsense the caller gets :class:`idp.errors.VerificationUnavailable`
within about five seconds, and never a match by accident. Accordingly:

- connect and read timeouts on every attempt, and one overall deadline (:data:`TOTAL_BUDGET`) that
  also bounds retries and a body that trickles in;
- at most two retries, with a short backoff, and only after connection failures or 5xx answers
  (never after a read timeout: the source was reached and is slow, waiting more would break the
  budget);
- redirects are not followed, proxies from the environment are not used, and the target must pass
  :func:`idp.net.check_egress_url`;
- the answer must be exactly the documented JSON object; anything else is "unavailable".
"""

from __future__ import annotations

import json
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import requests

from idp.errors import InvalidInput, VerificationUnavailable
from idp.net import EgressRefused, check_egress_url
from idp.realname.idnumber import validate_resident_id

log = logging.getLogger(__name__)

#: Longest any verification may take, retries included (seconds).
TOTAL_BUDGET = 4.5
#: Connect timeout of one attempt (seconds).
CONNECT_TIMEOUT = 1.0
MAX_RETRIES = 2
BACKOFF = (0.2, 0.4)
#: Largest answer read; the documented one is well under a kilobyte.
MAX_RESPONSE_BYTES = 16 * 1024
MAX_NAME_LENGTH = 64
_REFERENCE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_UNAVAILABLE = (
    "实名核验服务暂时不可用,请稍后再试。"
    " The real-name verification service is unavailable, please try again later."
)


class Outcome(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class VerificationResult:
    """The source's answer: ``matched`` only for ``Outcome.MATCH``."""

    matched: bool
    reason: Outcome
    #: The source's reference for this check, kept as evidence.
    reference: str


class _Retryable(Exception):
    """An attempt failed in a way a retry may fix (connection failure, 5xx)."""


def _unavailable(detail: str) -> VerificationUnavailable:
    return VerificationUnavailable(_UNAVAILABLE, detail)


def _clean_name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidInput("请填写姓名。 Please enter the name.", "name missing")
    text = unicodedata.normalize("NFKC", name).strip()
    if not text:
        raise InvalidInput("请填写姓名。 Please enter the name.", "name missing")
    if len(text) > MAX_NAME_LENGTH or any(unicodedata.category(ch).startswith("C") for ch in text):
        raise InvalidInput(
            "姓名过长或含有不允许的字符。 The name is too long or contains characters that are not allowed.",
            "name too long or with control characters",
        )
    return text


class NationalSourceClient:
    """Calls the national source; see the module docstring for the contract and the guarantees."""

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = 2.0,
        retries: int = MAX_RETRIES,
        allow_private: bool = False,
        session: requests.Session | None = None,
    ) -> None:
        if not 0 <= retries <= MAX_RETRIES:
            raise ValueError(f"retries must be between 0 and {MAX_RETRIES}")
        if not 0 < timeout <= TOTAL_BUDGET:
            raise ValueError(f"timeout must be positive and at most {TOTAL_BUDGET} s")
        self.url = base_url.rstrip("/") + "/v1/verify"
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.allow_private = allow_private
        self.session = session or requests.Session()
        # Proxy variables or a .netrc on the host must not reroute or re-authenticate the call.
        self.session.trust_env = False

    def verify(self, name: str, id_number: str, birth_date: date) -> VerificationResult:
        """Ask the source whether ``name``, ``id_number`` and ``birth_date`` belong to one person.

        Raises :class:`InvalidInput` (including :class:`idp.realname.idnumber.InvalidIdNumber`) before
        any call when the data cannot be right, and :class:`VerificationUnavailable` when the source
        cannot give a valid answer in time.
        """
        clean_name = _clean_name(name)
        parsed = validate_resident_id(id_number, birth_date)
        try:
            check_egress_url(self.url, self.allow_private)
        except EgressRefused as exc:
            raise _unavailable(f"source URL refused: {exc.detail}") from None
        payload = {
            "name": clean_name,
            "id_number": parsed.number,
            "birth_date": parsed.birth_date.isoformat(),
        }
        deadline = time.monotonic() + TOTAL_BUDGET
        attempt = 0
        while True:
            try:
                return self._attempt(payload, deadline)
            except _Retryable as exc:
                backoff = BACKOFF[min(attempt, len(BACKOFF) - 1)]
                if attempt >= self.retries or time.monotonic() + backoff + CONNECT_TIMEOUT > deadline:
                    raise _unavailable(f"giving up after {attempt + 1} attempt(s): {exc}") from None
                log.info("verification source attempt %d failed (%s); retrying", attempt + 1, exc)
                time.sleep(backoff)
                attempt += 1

    def _attempt(self, payload: dict[str, str], deadline: float) -> VerificationResult:
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            raise _unavailable("time budget spent")
        timeout = (min(CONNECT_TIMEOUT, remaining), min(self.timeout, remaining))
        try:
            response = self.session.post(
                self.url,
                json=payload,
                headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.ConnectionError as exc:  # includes ConnectTimeout: nothing reached the source
            raise _Retryable(f"connection failed: {exc.__class__.__name__}") from None
        except requests.Timeout:
            raise _unavailable("source did not answer in time") from None
        except requests.RequestException as exc:
            raise _unavailable(f"request failed: {exc.__class__.__name__}") from None
        with response:
            if response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code}")
            if response.status_code != 200:
                # 3xx (not followed), 401 (token), 400...: a configuration or contract problem, not a verdict.
                raise _unavailable(f"unexpected HTTP {response.status_code}")
            body = self._read_body(response, deadline)
        return _parse_answer(response.headers.get("Content-Type", ""), body)

    @staticmethod
    def _read_body(response: requests.Response, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=4096):
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise _unavailable("answer too large")
                if time.monotonic() > deadline:
                    raise _unavailable("answer trickled in past the time budget")
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise _unavailable(f"reading the answer failed: {exc.__class__.__name__}") from None
        return b"".join(chunks)


def _parse_answer(content_type: str, body: bytes) -> VerificationResult:
    """Accept only the documented JSON object; everything else means "unavailable"."""
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise _unavailable(f"answer content type {content_type[:60]!r}")
    try:
        data: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _unavailable("answer is not JSON") from None
    if not isinstance(data, dict) or set(data) != {"result", "reference"}:
        raise _unavailable("answer does not have exactly the fields result and reference")
    result, reference = data["result"], data["reference"]
    if not isinstance(result, str) or result not in {o.value for o in Outcome}:
        raise _unavailable("answer has an unknown result")
    if not isinstance(reference, str) or not _REFERENCE.fullmatch(reference):
        raise _unavailable("answer has no valid reference")
    outcome = Outcome(result)
    return VerificationResult(matched=outcome is Outcome.MATCH, reason=outcome, reference=reference)
