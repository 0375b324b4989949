"""The server extension's proxy handler (``<base_url>/meow/…`` → the service).

A real Jupyter server with the extension (pytest-jupyter's ``jp_serverapp``
and ``jp_fetch``); the service is the fake echo server of conftest.py, started
by the extension, so each test sees what the proxy forwarded.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from jupyter_server.utils import url_path_join
from tornado.httpclient import HTTPClientError

from jupyterlab_meow.serverextension import SECRET_HEADER


def _headers(seen: dict) -> dict[str, str]:
    return {name.lower(): value for name, value in seen["headers"]}


async def test_refuses_requests_without_jupyter_auth(meow_service, http_server_client, jp_base_url,
                                                     forwarded):
    url = url_path_join(jp_base_url, "meow", "api", "jobs")
    # No credentials at all, a wrong token, and an unsafe method without them.
    attempts = [
        dict(method="GET"),
        dict(method="GET", headers={"Authorization": "token not-the-token"}),
        dict(method="GET", headers={"Cookie": "session=forged"}),
        dict(method="POST", body=json.dumps({"pattern": "p"})),
        dict(method="DELETE"),
    ]
    for kwargs in attempts:
        response = await http_server_client.fetch(url, raise_error=False, follow_redirects=False,
                                                  **kwargs)
        assert response.code == 403, (kwargs, response.code, response.body)
        # JSON like the service's own errors, never a login redirect or HTML page.
        assert response.headers["Content-Type"].startswith("application/json")
        assert "error" in json.loads(response.body)
    # Nothing reached the service.
    assert forwarded() == []


async def test_forwards_with_the_secret_and_without_credentials(meow_service, jp_fetch, jp_serverapp,
                                                                forwarded):
    token = jp_serverapp.identity_provider.token
    response = await jp_fetch(
        "meow", "api", "jobs",
        params={"status": "done", "token": token},
        headers={
            "Cookie": "username-localhost-8888=secret-cookie; _xsrf=abc",
            SECRET_HEADER: "forged-by-the-browser",
            "X-Custom": "kept",
        },
    )
    assert response.code == 200
    seen = json.loads(response.body)
    headers = _headers(seen)
    # The per-start secret was added (and a client's own value replaced).
    assert headers[SECRET_HEADER.lower()] == meow_service.secret
    assert seen["env_secret"] == meow_service.secret
    # Jupyter's credentials were stripped: cookies, the Authorization token
    # header and the token query parameter; other headers and parameters pass.
    assert "cookie" not in headers
    assert "authorization" not in headers
    assert headers["x-custom"] == "kept"
    parts = urlsplit(seen["path"])
    assert parts.path == "/api/jobs"
    assert parse_qsl(parts.query) == [("status", "done")]
    assert token not in json.dumps(seen)
    # The secret reaches the service through its environment, not its command line.
    assert meow_service.secret not in " ".join(seen["argv"])
    assert seen["argv"][seen["argv"].index("--unix-socket") + 1] == meow_service.socket_path
    assert len(forwarded()) == 1


async def test_token_in_query_only_is_stripped_and_body_forwarded(meow_service, http_server_client,
                                                                  jp_serverapp, jp_base_url,
                                                                  forwarded):
    token = jp_serverapp.identity_provider.token
    body = json.dumps({"name": "Pattern_One", "recipe": "Append"})
    # Authenticated only by ?token= (as a browser link would be); token
    # authentication also exempts the POST from the XSRF check.
    url = url_path_join(jp_base_url, "meow", "api", "patterns") + f"?token={token}&dry=1"
    response = await http_server_client.fetch(url, method="POST", body=body,
                                              headers={"Content-Type": "application/json"})
    assert response.code == 200
    seen = json.loads(response.body)
    assert seen["method"] == "POST"
    assert seen["body"] == body
    assert seen["path"] == "/api/patterns?dry=1"
    assert _headers(seen)[SECRET_HEADER.lower()] == meow_service.secret
    assert token not in json.dumps(seen)
    assert len(forwarded()) == 1


async def test_service_refusal_passes_through_and_stopped_service_is_503(meow_service, jp_fetch):
    # The fake service answers 401 without the right secret; the proxy adds
    # it, so a 401 here would mean the secret was lost. A stopped service is
    # a 503 from the proxy itself.
    response = await jp_fetch("meow", "api", "status")
    assert response.code == 200
    meow_service.stop_now()
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("meow", "api", "status")
    assert err.value.code == 503
    assert "error" in json.loads(err.value.response.body)
