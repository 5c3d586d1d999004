"""The web client's files as the server answers them: headers, CSP, ETag, and nothing else reachable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from websockets.datastructures import Headers
from websockets.http11 import Response

from server.ws import web

SHIPPED = ["/", "/index.html", "/app.js", "/rtc.js", "/sentences.js", "/style.css", "/icon.svg"]


def get(path: str, files: dict[str, web.WebFile] | None = None, tls: bool = False, **headers: str) -> Response | None:
    files = web.load() if files is None else files
    request = Headers({"Host": "study.example.org:8765", **{k.replace("_", "-"): v for k, v in headers.items()}})
    return web.answer(files, path, request, tls)


@pytest.mark.parametrize("path", SHIPPED)
def test_every_shipped_file_is_served_with_its_type_and_the_security_headers(path: str) -> None:
    response = get(path)
    assert response is not None and response.status_code == 200 and response.body
    kind = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}.get(path.rsplit(".", 1)[-1], "text/html")
    assert response.headers["Content-Type"].startswith(kind)
    assert response.headers["Content-Length"] == str(len(response.body))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["ETag"])


def test_the_page_loads_only_its_own_scripts_and_styles() -> None:
    index = get("/")
    assert index is not None
    html = index.body.decode()
    assert "<script>" not in html and re.findall(r"<script[^>]*>", html) == ['<script type="module" src="app.js">']
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler would need 'unsafe-inline'"
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "nothing from another origin"
    assert not re.search(r"style=", html), "no inline style"
    for script in re.findall(r'src="([^"]+\.js)"', html):
        assert get("/" + script) is not None


def test_the_policy_forbids_inline_code_and_names_this_servers_sockets() -> None:
    response = get("/")
    assert response is not None
    policy = dict(d.strip().split(" ", 1) for d in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self' ws://study.example.org:8765"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    tls = get("/", tls=True)
    assert tls is not None and "connect-src 'self' wss://study.example.org:8765" in tls.headers["Content-Security-Policy"]


def test_a_host_header_that_is_not_a_plain_host_stays_out_of_the_policy() -> None:
    for host in ["evil.org; script-src *", "a b", "x'y", "host:99999999"]:
        response = web.answer(web.load(), "/", Headers({"Host": host}), False)
        assert response is not None
        assert "connect-src 'self';" in response.headers["Content-Security-Policy"], host


def test_a_known_etag_gets_304_without_a_body() -> None:
    first = get("/app.js")
    assert first is not None
    etag = first.headers["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = get("/app.js", If_None_Match=header)
        assert again is not None and again.status_code == 304 and again.body == b"", header
        assert again.headers["ETag"] == etag
        assert "Content-Security-Policy" in again.headers
    changed = get("/app.js", If_None_Match='"0123"')
    assert changed is not None and changed.status_code == 200


@pytest.mark.parametrize("path", [
    "/../pyproject.toml", "/..%2f..%2fpyproject.toml", "/%2e%2e/server/cli.py", "//etc/passwd",
    "/web/app.js", "/app.js/", "/APP.JS", "/index.html%00", "/.", "/..", "/app", "/ws.py",
])
def test_nothing_but_the_table_is_reachable(path: str) -> None:
    assert get(path) is None


def test_only_known_types_directly_in_the_folder_are_served(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "notes.txt").write_text("secret")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.js").write_text("1")
    (tmp_path / "link.js").symlink_to(tmp_path / "notes.txt")
    files = web.load(tmp_path)
    assert sorted(files) == ["/", "/index.html"]
    assert web.load(tmp_path / "missing") == {}
