"""The benchmark's lean HTTP client speaks enough HTTP/1.1 to drive the app: query strings, form posts, headers,
status codes and Set-Cookie, against a real local server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from perf.http_client import HttpClient


class _Echo(BaseHTTPRequestHandler):
    def _reply(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Set-Cookie", "sessionid=abc; Path=/; HttpOnly")
        self.send_header("Set-Cookie", "csrftoken=xyz; Path=/")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self._reply(404 if self.path.startswith("/missing") else 200, f"GET {query} {self.headers.get('X-Test')}")

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self._reply(201, f"POST {parse_qs(self.rfile.read(length).decode())} {self.headers['Content-Type']}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_get_post_status_and_cookies(base_url: str) -> None:
    client = HttpClient(base_url)

    async def exchange() -> list:
        return await asyncio.gather(
            client.request("GET", "/page", params={"PROLIFIC_PID": "p 1"}, headers={"X-Test": "yes"}),
            client.request("POST", "/save", data={"choice": "A", "reasoning": "Why & how"}),
            client.request("GET", "/missing"),
        )

    # In a thread of its own: Playwright's sync API may already run an event loop in this one (browser tests).
    with ThreadPoolExecutor(1) as pool:
        page, save, missing = pool.submit(asyncio.run, exchange()).result()
    assert page.status_code == 200
    assert page.text == "GET {'PROLIFIC_PID': ['p 1']} yes"
    assert page.header_values("Set-Cookie") == ["sessionid=abc; Path=/; HttpOnly", "csrftoken=xyz; Path=/"]
    assert save.status_code == 201
    assert save.text == "POST {'choice': ['A'], 'reasoning': ['Why & how']} application/x-www-form-urlencoded"
    assert missing.status_code == 404


def test_only_plain_http_with_a_port() -> None:
    with pytest.raises(ValueError, match="http://host:port"):
        HttpClient("https://example.org")
