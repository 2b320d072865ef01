"""A throw-away nginx configuration tree built from deploy/nginx/, for nginx -t and live runs.

The tree mirrors Debian's layout (``snippets/``, ``sites-enabled/``, ``tls/<host>/`` beside the main
config file), because the site files name snippets and certificates relative to the configuration
directory. Certificates are self-signed and made here with ``cryptography``.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.services import unavailable

ROOT = Path(__file__).resolve().parents[2]
NGINX_DIR = ROOT / "deploy" / "nginx"
HOSTS = ("fuwu.most.gov.cn", "otm.safea.gov.cn", "px.most.gov.cn")
UPSTREAM_PORTS = {"idp": 8000, "legacy": 8001, "rp": 8002}


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else "")
    if not found:
        unavailable("nginx is not installed (apt-get install nginx-light)")
    return found


@dataclass(frozen=True)
class NginxTree:
    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "nginx.conf"

    @property
    def error_log(self) -> Path:
        return self.root / "error.log"

    def test(self, binary: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, "-t", "-p", str(self.root), "-c", str(self.conf), "-e", str(self.error_log)],
            capture_output=True,
            text=True,
            timeout=30,
        )

    def ca_bundle(self) -> Path:
        bundle = self.root / "ca-bundle.pem"
        bundle.write_bytes(b"".join((self.root / "tls" / h / "chain.pem").read_bytes() for h in HOSTS))
        return bundle


def self_signed(host: str, directory: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (directory / "fullchain.pem").write_bytes(pem)
    (directory / "chain.pem").write_bytes(pem)
    (directory / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def substitute(text: str, pattern: str, replacement: str) -> str:
    """re.sub that insists on a match, so a renamed directive breaks the test instead of hiding."""
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count, f"pattern {pattern!r} not found"
    return new


def build_tree(
    root: Path,
    listen: Mapping[int, int] | None = None,
    upstreams: Mapping[int, int] | None = None,
) -> NginxTree:
    """Copy the deploy files under ``root``; optionally move ports (public ``listen`` and upstream)."""
    shutil.copytree(NGINX_DIR / "snippets", root / "snippets")
    (root / "sites-enabled").mkdir()
    for site in sorted((NGINX_DIR / "sites").glob("*.conf")):
        text = site.read_text(encoding="utf-8")
        for public, port in (listen or {}).items():
            # IPv6 listeners are dropped: a CI sandbox may have no IPv6 loopback.
            text = re.sub(rf"^\s*listen \[::\]:{public}\b.*$", "", text, flags=re.MULTILINE)
            text = substitute(text, rf"listen {public}\b", f"listen 127.0.0.1:{port}")
        for original, port in (upstreams or {}).items():
            if f"127.0.0.1:{original};" in text:
                text = text.replace(f"127.0.0.1:{original};", f"127.0.0.1:{port};")
        (root / "sites-enabled" / site.name).write_text(text, encoding="utf-8")
    for host in HOSTS:
        self_signed(host, root / "tls" / host)
    temp = root / "temp"
    temp.mkdir()
    user = "user root;\n" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(
        f"""{user}worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;

events {{
    worker_connections 256;
}}

http {{
    default_type application/octet-stream;
    sendfile on;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;

    include sites-enabled/*.conf;
}}
"""
    )
    return NginxTree(root)
