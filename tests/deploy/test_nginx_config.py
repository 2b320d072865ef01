"""deploy/nginx/ passes Debian nginx's own syntax check, with the files exactly as shipped."""

from __future__ import annotations

import re
from pathlib import Path

from tests.deploy.nginx_tree import HOSTS, NGINX_DIR, build_tree, nginx_binary


def test_shipped_sites_pass_nginx_t(tmp_path: Path) -> None:
    tree = build_tree(tmp_path)
    result = tree.test(nginx_binary())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "syntax is ok" in output and "test is successful" in output
    # Stapling is on but cannot work with self-signed certificates; anything else is a real warning.
    unexpected = [
        line
        for line in output.splitlines()
        if "[warn]" in line or "[emerg]" in line
        if "ssl_stapling" not in line
    ]
    assert unexpected == []


def test_a_broken_site_is_refused(tmp_path: Path) -> None:
    """The check above has teeth: the same tree with one typo fails nginx -t."""
    tree = build_tree(tmp_path)
    site = tree.root / "sites-enabled" / "fuwu.most.gov.cn.conf"
    text = site.read_text(encoding="utf-8")
    site.write_text(text.replace("client_max_body_size 6m;", "client_max_body_sise 6m;"), encoding="utf-8")
    result = tree.test(nginx_binary())
    assert result.returncode != 0
    assert "client_max_body_sise" in result.stderr


def test_every_public_host_has_tls_and_hsts() -> None:
    for host in HOSTS:
        text = (NGINX_DIR / "sites" / f"{host}.conf").read_text(encoding="utf-8")
        https = text[text.index("listen 443") :]
        assert f"ssl_certificate tls/{host}/fullchain.pem;" in https
        assert "include snippets/sso-tls.conf;" in https
        assert "include snippets/sso-stapling.conf;" in https
        assert re.search(r'add_header Strict-Transport-Security "max-age=\d{8,}[^"]*" always;', https)


def test_tls_snippet_offers_only_modern_protocols() -> None:
    text = (NGINX_DIR / "snippets" / "sso-tls.conf").read_text(encoding="utf-8")
    protocols = re.search(r"^ssl_protocols (.+);$", text, flags=re.MULTILINE)
    assert protocols is not None and protocols.group(1).split() == ["TLSv1.2", "TLSv1.3"]
    assert "ssl_session_tickets off;" in text
