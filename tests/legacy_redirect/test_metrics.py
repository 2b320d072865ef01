"""The visit counter: path groups, bounded referrer labels, deep links, and who may read /metrics."""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from legacy_redirect.referrers import ReferrerLabeller, referrer_host


def samples(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = client.get("/metrics").get_data(as_text=True)
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_total"):
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def visits(client: FlaskClient, group: str, referrer: str) -> float:
    key = ("legacy_visits_total", (("path_group", group), ("referrer", referrer)))
    return samples(client).get(key, 0.0)


def test_visits_are_counted_by_path_group(client: FlaskClient) -> None:
    client.get("/")
    client.get("/")
    client.get("/old/list.do")
    client.get("/login.jsp")
    client.get("/instructions")
    client.get("/instructions/download")
    assert visits(client, "root", "none") == 2
    assert visits(client, "other", "none") == 1
    assert visits(client, "deep_link", "none") == 1
    assert visits(client, "instructions", "none") == 2


def test_each_deep_link_is_counted_by_its_map_entry(client: FlaskClient) -> None:
    client.get("/login.jsp")
    client.get("/LOGIN.JSP;jsessionid=1")
    client.get("/index.do")
    found = samples(client)
    assert found[("legacy_deep_link_redirects_total", (("old_path", "/login.jsp"),))] == 2
    assert found[("legacy_deep_link_redirects_total", (("old_path", "/index.do"),))] == 1


def test_known_referrers_by_name_and_the_rest_as_other(client: FlaskClient) -> None:
    client.get("/", headers={"Referer": "https://www.baidu.com/s?wd=otm"})
    client.get("/", headers={"Referer": "https://FUWU.MOST.GOV.CN/portal"})
    client.get("/", headers={"Referer": "https://otm.example.test/old/page"})
    client.get("/", headers={"Referer": "https://attacker-123.example/"})
    client.get("/", headers={"Referer": "not a url at all"})
    assert visits(client, "root", "www.baidu.com") == 1
    assert visits(client, "root", "fuwu.most.gov.cn") == 1
    assert visits(client, "root", "self") == 1
    assert visits(client, "root", "other") == 2


def test_hostile_referrers_cannot_create_new_series(client: FlaskClient) -> None:
    rng = random.Random(7)
    for _ in range(300):
        host = "".join(rng.choices(string.ascii_lowercase + string.digits, k=12))
        client.get("/", environ_overrides={"HTTP_REFERER": f"https://{host}.example/\r\nx"})
    client.get("/", headers={"Referer": "http://[::1"})
    client.get("/", headers={"Referer": "javascript:alert(1)"})
    labels = {
        dict(labels).get("referrer") for name, labels in samples(client) if name == "legacy_visits_total"
    }
    assert labels == {"other"}


def test_head_requests_are_not_visits(client: FlaskClient) -> None:
    client.head("/")
    client.head("/login.jsp")
    assert visits(client, "root", "none") == 0
    assert visits(client, "deep_link", "none") == 0


def test_metrics_are_refused_through_a_proxy_or_from_outside(make_app: Callable[..., Flask]) -> None:
    client = make_app(trusted_proxies=1).test_client()
    outside = client.get("/metrics", environ_overrides={"REMOTE_ADDR": "203.0.113.9"})
    assert outside.status_code == 404
    assert b"legacy_visits" not in outside.data
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert proxied.status_code == 404
    assert client.get("/metrics", headers={"Forwarded": "for=127.0.0.1"}).status_code == 404
    assert client.get("/metrics").status_code == 200


def test_metrics_allow_list_is_configurable(make_app: Callable[..., Flask]) -> None:
    client = make_app(metrics_allow="10.1.0.0/16").test_client()
    assert client.get("/metrics", environ_overrides={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics").status_code == 404


def test_referrer_labeller_unit() -> None:
    labeller = ReferrerLabeller(frozenset({"www.baidu.com"}), "otm.safea.gov.cn")
    assert labeller.label(None) == "none"
    assert labeller.label("") == "none"
    assert labeller.label("https://www.baidu.com/") == "www.baidu.com"
    assert labeller.label("http://OTM.safea.gov.cn/x") == "self"
    assert labeller.label("ftp://www.baidu.com/") == "other"
    assert labeller.label("https://www.baidu.com.evil.example/") == "other"
    assert referrer_host("https://user@www.baidu.com:8443/") == "www.baidu.com"
    assert referrer_host("http://[::1") is None
