"""The verification-source simulator as a real process, called through the IdP's adapter.

Each simulator runs under gunicorn in its own process on a free loopback port; faults (slow answers,
errors, nonsense) are switched on through its ``NATIONAL_SOURCE_*`` settings, never mocked.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import requests

from idp.errors import InvalidInput, VerificationUnavailable
from idp.net import EgressRefused, check_egress_url, is_internal_address
from idp.realname.idnumber import InvalidIdNumber, generate_id_number
from idp.realname.source import NationalSourceClient, Outcome
from national_source import cli
from national_source.register import DEFAULT_REGISTER, DEMO_PEOPLE, dump_register, generate_register
from tests.support.live import free_port, running

TOKEN = "test-source-token"
DEMO = DEMO_PEOPLE[0]
DEMO_BORN = date.fromisoformat(DEMO.birth_date)
# The simulator answers within its budget; this bounds how long any unavailable verdict may take.
BUDGET = 5.0


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("national-source-logs")


@contextmanager
def simulator(logs: Path, name: str, workers: int = 2, **env: str) -> Iterator[str]:
    """A simulator process with ``NATIONAL_SOURCE_<KEY>=value`` for each keyword; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "national_source", "serve", "--port", str(port), "--workers", str(workers)]
    full_env = {"NATIONAL_SOURCE_TOKEN": TOKEN, **{f"NATIONAL_SOURCE_{k.upper()}": v for k, v in env.items()}}
    with running(args, full_env, f"{base}/healthz", logs / f"{name}.log"):
        yield base


@pytest.fixture(scope="module")
def source(logs: Path) -> Iterator[str]:
    with simulator(logs, "normal") as base:
        yield base


def client(base: str, token: str = TOKEN, **kwargs: object) -> NationalSourceClient:
    return NationalSourceClient(base, token, allow_private=True, **kwargs)  # type: ignore[arg-type]


def unavailable_within_budget(base: str, **kwargs: object) -> VerificationUnavailable:
    started = time.monotonic()
    with pytest.raises(VerificationUnavailable) as info:
        client(base, **kwargs).verify(DEMO.name, DEMO.id_number, DEMO_BORN)  # type: ignore[arg-type]
    assert time.monotonic() - started < BUDGET
    assert "unavailable" in info.value.public and "不可用" in info.value.public
    return info.value


# --- verdicts ------------------------------------------------------------------------------------


def test_match(source: str) -> None:
    result = client(source).verify(DEMO.name, DEMO.id_number, DEMO_BORN)
    assert result.matched and result.reason is Outcome.MATCH
    assert result.reference.startswith("NSS-")


def test_match_with_lower_case_x_and_surrounding_spaces(source: str) -> None:
    person = next(p for p in DEMO_PEOPLE if p.id_number.endswith("X"))
    born = date.fromisoformat(person.birth_date)
    assert client(source).verify(f" {person.name} ", person.id_number.lower(), born).matched


def test_mismatch_on_wrong_name(source: str) -> None:
    result = client(source).verify("张伟伟", DEMO.id_number, DEMO_BORN)
    assert not result.matched and result.reason is Outcome.MISMATCH


def test_not_found(source: str) -> None:
    absent = generate_id_number("510104", date(1992, 7, 1), 371)
    result = client(source).verify("赵六", absent, date(1992, 7, 1))
    assert not result.matched and result.reason is Outcome.NOT_FOUND


def test_every_demo_person_matches(source: str) -> None:
    for person in DEMO_PEOPLE:
        assert (
            client(source)
            .verify(person.name, person.id_number, date.fromisoformat(person.birth_date))
            .matched
        )


def test_wrong_token_is_unavailable_never_a_verdict(source: str) -> None:
    error = unavailable_within_budget(source, token="wrong-token")
    assert "401" in error.detail


# --- validated before any call ------------------------------------------------------------------


def test_invalid_id_number_is_refused_before_calling() -> None:
    wrong_check = DEMO.id_number[:17] + ("0" if DEMO.id_number[17] != "0" else "1")
    # The port is unused: a refusal proves no call was needed to decide.
    with pytest.raises(InvalidIdNumber):
        client(f"http://127.0.0.1:{free_port()}").verify(DEMO.name, wrong_check, DEMO_BORN)


def test_birth_date_must_agree_before_calling() -> None:
    with pytest.raises(InvalidIdNumber):
        client(f"http://127.0.0.1:{free_port()}").verify(DEMO.name, DEMO.id_number, date(2000, 1, 1))


@pytest.mark.parametrize("name", ["", "   ", "张\u0000伟", "张\u200b伟", "名" * 65, None])
def test_hostile_names_are_refused_before_calling(name: object) -> None:
    with pytest.raises(InvalidInput):
        client(f"http://127.0.0.1:{free_port()}").verify(name, DEMO.id_number, DEMO_BORN)  # type: ignore[arg-type]


# --- faults ---------------------------------------------------------------------------------------


def test_source_down_is_unavailable_within_budget() -> None:
    error = unavailable_within_budget(f"http://127.0.0.1:{free_port()}")
    assert "3 attempt" in error.detail


def test_slow_source_is_unavailable_within_budget(logs: Path) -> None:
    with simulator(logs, "slow", delay="8") as base:
        unavailable_within_budget(base)


def test_slow_source_with_short_timeout(logs: Path) -> None:
    with simulator(logs, "slower", delay="2") as base:
        unavailable_within_budget(base, timeout=0.5)
        # With a timeout above the delay, the same source answers.
        assert client(base, timeout=3.0).verify(DEMO.name, DEMO.id_number, DEMO_BORN).matched


@pytest.mark.parametrize("fault", ["garbage", "wrong_shape", "error", "redirect"])
def test_faulty_answers_are_unavailable(logs: Path, fault: str) -> None:
    with simulator(logs, fault, workers=1, fault=fault) as base:
        error = unavailable_within_budget(base)
        assert error.detail


def test_transient_errors_are_retried(logs: Path) -> None:
    with simulator(logs, "flaky", workers=1, fail_first="2") as base:
        assert client(base, retries=2).verify(DEMO.name, DEMO.id_number, DEMO_BORN).matched


def test_retries_can_be_turned_off(logs: Path) -> None:
    with simulator(logs, "flaky-no-retry", workers=1, fail_first="1") as base:
        unavailable_within_budget(base, retries=0)


def test_private_target_is_refused_unless_allowed(source: str) -> None:
    guarded = NationalSourceClient(source, TOKEN, allow_private=False)
    with pytest.raises(VerificationUnavailable) as info:
        guarded.verify(DEMO.name, DEMO.id_number, DEMO_BORN)
    assert "refused" in info.value.detail


def test_client_refuses_impossible_settings() -> None:
    with pytest.raises(ValueError):
        NationalSourceClient("http://127.0.0.1:1", TOKEN, retries=3)
    with pytest.raises(ValueError):
        NationalSourceClient("http://127.0.0.1:1", TOKEN, timeout=10)


# --- the simulator's own HTTP interface ----------------------------------------------------------


def post(
    base: str, body: bytes, token: str | None = TOKEN, content_type: str = "application/json"
) -> requests.Response:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(f"{base}/v1/verify", data=body, headers=headers, timeout=5)


def test_healthz(source: str) -> None:
    response = requests.get(f"{source}/healthz", timeout=5)
    assert response.status_code == 200 and response.json() == {
        "status": "ok",
        "people": len(generate_register()),
    }


@pytest.mark.parametrize(
    ("body", "token", "content_type", "status"),
    [
        (b"{}", None, "application/json", 401),
        (b"{}", "", "application/json", 401),
        (b"{}", "dev-source-token", "application/json", 401),
        (b"name=x", TOKEN, "application/x-www-form-urlencoded", 415),
        (b"{not json", TOKEN, "application/json", 400),
        (b"\xff\xfe", TOKEN, "application/json", 400),
        (b"[1, 2]", TOKEN, "application/json", 400),
        (b'{"name": "x"}', TOKEN, "application/json", 400),
        (b'{"name": 1, "id_number": 2, "birth_date": 3}', TOKEN, "application/json", 400),
        (b'{"name": "x", "id_number": "y", "birth_date": "1985-13-45"}', TOKEN, "application/json", 400),
        (
            b'{"name": "' + b"x" * 100 + b'", "id_number": "y", "birth_date": "1985-01-01"}',
            TOKEN,
            "application/json",
            400,
        ),
        (b"{" + b" " * 20_000 + b"}", TOKEN, "application/json", 413),
    ],
)
def test_simulator_refuses_bad_requests_with_json_errors(
    source: str, body: bytes, token: str | None, content_type: str, status: int
) -> None:
    response = post(source, body, token, content_type)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"error"}


def test_simulator_answers_unknown_paths_and_methods_with_json(source: str) -> None:
    assert requests.get(f"{source}/v1/verify", timeout=5).status_code == 405
    missing = requests.get(f"{source}/nothing-here", timeout=5)
    assert missing.status_code == 404 and missing.json() == {"error": "not_found"}


def test_simulator_logs_no_names_or_numbers(source: str, logs: Path) -> None:
    client(source).verify(DEMO.name, DEMO.id_number, DEMO_BORN)
    text = (logs / "normal.log").read_text(encoding="utf-8")
    assert "verification NSS-" in text and ": match" in text
    assert DEMO.id_number not in text and DEMO.name not in text


# --- command line ---------------------------------------------------------------------------------


def test_shipped_register_is_the_generated_one() -> None:
    assert DEFAULT_REGISTER.read_text(encoding="utf-8") == dump_register(generate_register())


def test_register_has_unique_valid_synthetic_people() -> None:
    people = generate_register()
    assert len({p.id_number for p in people}) == len(people) == 204
    assert [p for p in people if p.demo] == list(DEMO_PEOPLE)


def test_people_command_lists_people(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["people", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[0].startswith("姓名")
    assert DEMO.id_number in lines[1] and DEMO.name in lines[1]


def test_people_command_demo_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["people", "--demo", "--limit", "100"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1 + len(DEMO_PEOPLE)


def test_generate_command_writes_the_register(tmp_path: Path) -> None:
    out = tmp_path / "register.json"
    assert cli.main(["generate", "--out", str(out), "--count", "5", "--seed", "other"]) == 0
    assert out.read_text(encoding="utf-8") == dump_register(generate_register("other", 5), "other")


@pytest.mark.parametrize(
    "argv", [["people", "--limit", "0"], ["people", "--limit", "x"], ["serve", "--port", "70000"], []]
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2


def test_bad_settings_exit_78(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NATIONAL_SOURCE_FAULT", "explode")
    assert cli.main(["people"]) == 78
    monkeypatch.delenv("NATIONAL_SOURCE_FAULT")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": 1, "people": [{"name": "x"}]}', encoding="utf-8")
    monkeypatch.setenv("NATIONAL_SOURCE_REGISTER", str(broken))
    assert cli.main(["people"]) == 78
    monkeypatch.setenv("NATIONAL_SOURCE_REGISTER", str(tmp_path / "missing.json"))
    assert cli.main(["people"]) == 78
    assert "Traceback" not in capsys.readouterr().err


def test_serve_with_bad_settings_exits_78(tmp_path: Path) -> None:
    env = {"NATIONAL_SOURCE_DELAY": "-1", "PATH": ""}
    finished = subprocess.run(
        [sys.executable, "-m", "national_source", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert finished.returncode == 78 and b"NATIONAL_SOURCE_DELAY" in finished.stderr
    assert b"Traceback" not in finished.stderr


# --- egress guard (idp.net) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8010/v1/verify",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://224.0.0.1/",
    ],
)
def test_internal_targets_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(EgressRefused):
        check_egress_url(url, allow_private=False)


def test_loopback_is_allowed_when_the_operator_allows_it() -> None:
    target = check_egress_url("http://127.0.0.1:8010/v1/verify", allow_private=True)
    assert target.host == "127.0.0.1" and target.port == 8010 and target.scheme == "http"


def test_public_addresses_pass() -> None:
    target = check_egress_url("https://8.8.8.8/logout", allow_private=False)
    assert target.port == 443 and target.addresses == (ipaddress.ip_address("8.8.8.8"),)
    assert not is_internal_address(ipaddress.ip_address("2001:4860:4860::8888"))


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://8.8.8.8/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "HTTP://user:pw@8.8.8.8/",
        "https://8.8.8.8@127.0.0.1/",
        "http:///path-only",
        "http://8.8.8.8:99999/",
        "http://8.8.8.8/\r\nX-Injected: 1",
        "http://8.8.8.8/ space",
        "http://" + "a" * 3000 + ".example/",
        "http://[::1/",
    ],
)
def test_malformed_or_unresolvable_urls_are_refused(url: str) -> None:
    with pytest.raises(EgressRefused):
        check_egress_url(url, allow_private=True)
