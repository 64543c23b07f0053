"""The fake Zalo Bot API server itself behaves as the tests that use it expect."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from aiohttp import web

from tests.fake_zalo_api import (
    BOT_ID,
    SECRET_HEADER,
    FakeZaloApi,
    docs_update,
    image_event,
    own_message_event,
    sticker_event,
    text_event,
    unsupported_event,
    voice_event,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"chart" * 100


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on 127.0.0.1 and yield its base URL."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def api() -> AsyncIterator[FakeZaloApi]:
    async with FakeZaloApi() as fake:
        yield fake


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


async def call(client: httpx.AsyncClient, api: FakeZaloApi, method: str,
               body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    response = await client.post(api.url(method, token), json=body or {})
    return response.status_code, response.json()


async def test_get_me_checks_the_token(api, client):
    status, body = await call(client, api, "getMe")
    assert status == 200 and body["ok"] is True
    assert body["result"]["account_name"] == "bot.giamngheo"
    assert isinstance(body["result"]["id"], str)
    status, body = await call(client, api, "getMe", token="wrong")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert [c.token for c in api.calls_to("getMe")] == [api.token, "wrong"]
    response = await client.post(api.url("getMe"), json={})
    assert response.headers.get_list("Server") == ["ZaloBotAPI", "nginx"]  # as Zalo sends it


async def test_unknown_method_and_bad_body(api, client):
    status, body = await call(client, api, "sendSomething")
    assert (status, body["error_code"]) == (404, 404)
    response = await client.post(api.url("sendMessage"), content=b"chat_id=u1")
    assert response.status_code == 400 and response.json()["ok"] is False
    assert len(api.calls) == 2


async def test_send_message_length_limits(api, client):
    _, body = await call(client, api, "sendMessage", {"chat_id": "u1", "text": "a" * 2000})
    assert body["ok"] is True and isinstance(body["result"]["message_id"], str)
    assert isinstance(body["result"]["date"], int)
    for bad in ({"chat_id": "u1", "text": "a" * 2001}, {"chat_id": "u1", "text": ""},
                {"chat_id": "u1", "text": "a" * 1999 + "📝"},  # an emoji counts two
                {"chat_id": 123, "text": "hi"}):
        status, body = await call(client, api, "sendMessage", bad)
        assert (status, body["ok"], body["error_code"]) == (400, False, 400), bad
        assert body["description"]
    assert api.sent_texts() == ["a" * 2000]
    assert api.sent_texts("u2") == []


async def test_get_updates_one_event_at_a_time_then_timeout(api, client):
    first, second = text_event("xin chào"), sticker_event(user_id="u2")
    api.queue(first)
    api.queue(second)
    assert (await call(client, api, "getUpdates", {"timeout": "1"}))[1] == {
        "ok": True, "result": first}
    assert (await call(client, api, "getUpdates", {"timeout": "1"}))[1]["result"] == second
    started = time.monotonic()
    status, body = await call(client, api, "getUpdates", {"timeout": "1"})
    assert time.monotonic() - started >= 0.9
    assert (status, body) == (408, {"ok": False, "description": "Request timeout"})
    assert api.delivered == [first, second] and api.pending == []


async def test_a_waiting_poll_is_woken(api, client):
    poll = asyncio.create_task(call(client, api, "getUpdates", {"timeout": "10"}))
    await api.wait_for("getUpdates", answered=False)
    event = api.queue(image_event("https://x.example/a.jpg", caption="ảnh"))
    started = time.monotonic()
    _, body = await poll
    assert body["result"] == event and time.monotonic() - started < 1
    assert body["result"]["message"]["photo"] == "https://x.example/a.jpg"


def test_event_shapes():
    event = text_event("chào", user_id="u7", display_name="Lò Văn Páo", date_ms=5)
    message = event["message"]
    assert event["event_name"] == "message.text.received"
    assert message["chat"] == {"id": "u7", "chat_type": "PRIVATE"}
    assert message["from"] == {"id": "u7", "display_name": "Lò Văn Páo", "is_bot": False}
    assert message["date"] == 5 and message["text"] == "chào"
    assert text_event("a")["message"]["message_id"] != text_event("a")["message"]["message_id"]
    assert "caption" not in image_event()["message"]
    assert sticker_event()["message"]["url"].startswith("https://")
    assert unsupported_event(chat_id="g1")["message"]["chat"]["id"] == "g1"
    assert unsupported_event()["event_name"] == "message.unsupported.received"
    assert voice_event()["message"]["voice_url"].endswith(".aac")
    sample = docs_update("Xin chào", user_id="u3", first_name="Nguyen Van A")
    assert "event_name" not in sample
    assert sample["message"]["from"] == {"id": "u3", "first_name": "Nguyen Van A"}
    own = own_message_event("đã lưu", chat_id="u3")["message"]
    assert own["from"]["id"] == BOT_ID and "is_bot" not in own["from"]
    assert own["chat"]["id"] == "u3"


async def test_webhook_excludes_polling(api, client):
    _, body = await call(client, api, "setWebhook", {"url": "https://h.example/z",
                                                     "secret_token": "short"})
    assert (body["ok"], body["error_code"]) == (False, 400)
    _, body = await call(client, api, "setWebhook", {"url": "https://h.example/z",
                                                     "secret_token": "s" * 8})
    assert body["result"]["url"] == "https://h.example/z"
    _, body = await call(client, api, "getUpdates", {"timeout": "1"})
    assert (body["ok"], body["error_code"]) == (False, 409)
    _, body = await call(client, api, "getWebhookInfo")
    assert body["result"]["url"] == "https://h.example/z"
    _, body = await call(client, api, "deleteWebhook")
    assert body["result"]["url"] == ""
    assert (await call(client, api, "getWebhookInfo"))[1]["result"]["url"] == ""


async def test_fail_injection_per_chat(api, client):
    api.fail("sendMessage", error_code=429, description="Too Many Requests", http_status=429,
             chat_id="u2", times=2)
    ok = {"chat_id": "u1", "text": "một"}
    assert (await call(client, api, "sendMessage", ok))[1]["ok"] is True
    for _ in range(2):
        status, body = await call(client, api, "sendMessage", {"chat_id": "u2", "text": "hai"})
        assert (status, body) == (429, {"ok": False, "error_code": 429,
                                        "description": "Too Many Requests"})
    assert (await call(client, api, "sendMessage", {"chat_id": "u2", "text": "ba"}))[1]["ok"]
    assert api.sent_texts() == ["một", "ba"]
    assert [c.error_code for c in api.calls_to("sendMessage")] == [None, 429, 429, None]


async def test_delay_and_dropped_connection(api, client):
    api.drop_connection("sendMessage")
    api.drop_connection("sendMessage", after=True)
    with pytest.raises(httpx.TransportError):
        await call(client, api, "sendMessage", {"chat_id": "u1", "text": "lost"})
    with pytest.raises(httpx.TransportError):
        await call(client, api, "sendMessage", {"chat_id": "u1", "text": "sent, answer lost"})
    api.delay("sendMessage", 0.3)
    started = time.monotonic()
    assert (await call(client, api, "sendMessage", {"chat_id": "u1", "text": "ok"}))[1]["ok"]
    assert time.monotonic() - started >= 0.3
    assert [c.dropped for c in api.calls_to("sendMessage")] == [True, True, False]
    assert api.sent_texts() == ["ok"]


async def test_wait_for(api, client):
    async def later():
        await asyncio.sleep(0.1)
        await call(client, api, "sendChatAction", {"chat_id": "u1", "action": "typing"})

    task = asyncio.create_task(later())
    calls = await api.wait_for("sendChatAction", timeout=2)
    assert calls[0].response == {"ok": True}
    await task
    with pytest.raises(AssertionError):
        await api.wait_for("sendChatAction", count=2, timeout=0.1)


async def test_send_photo_fetches_the_url(api, client):
    async def chart(request):
        return web.Response(body=PNG, content_type="image/png")

    app = web.Application()
    app.router.add_get("/chart.png", chart)
    async with serve(app) as base:
        _, body = await call(client, api, "sendPhoto", {"chat_id": "u1",
                                                        "photo": f"{base}/chart.png",
                                                        "caption": "Biểu đồ"})
        assert body["ok"] is True
        _, body = await call(client, api, "sendPhoto", {"chat_id": "u1",
                                                        "photo": f"{base}/missing.png"})
        assert (body["ok"], body["error_code"], body["description"]) == (
            False, 400, "Bad Request: cannot fetch photo")
    _, body = await call(client, api, "sendPhoto", {"chat_id": "u1", "photo": "/tmp/x.png"})
    assert body["error_code"] == 400
    [photo] = api.photos("u1")
    assert (photo.photo_bytes, photo.photo_content_type, photo.text) == (PNG, "image/png",
                                                                         "Biểu đồ")
    assert api.calls_to("sendPhoto")[1].photo_error == "HTTP 404"


async def test_post_webhook(api, client):
    received: list[tuple[str | None, bytes]] = []

    async def hook(request):
        received.append((request.headers.get(SECRET_HEADER), await request.read()))
        return web.json_response({"message": "Success"})

    app = web.Application()
    app.router.add_post("/zalo", hook)
    async with serve(app) as base:
        with pytest.raises(RuntimeError):
            await api.post_webhook(text_event("x"))
        _, body = await call(client, api, "setWebhook", {"url": f"{base}/zalo",
                                                         "secret_token": "bi-mat-123"})
        assert body["ok"] is True
        event = text_event("chào bot")
        status, text = await api.post_webhook(event)
        assert status == 200 and json.loads(text) == {"message": "Success"}
        await api.post_webhook(event, wrapped=False, secret=None)
        await api.post_webhook(event, secret="sai", raw_body=b"not json")
    assert received[0] == ("bi-mat-123", json.dumps({"ok": True, "result": event},
                                                    ensure_ascii=False).encode())
    assert received[1][0] is None and json.loads(received[1][1]) == event
    assert received[2] == ("sai", b"not json")


async def test_an_abandoned_poll_takes_nothing_and_closing_ends_polls(client):
    async with FakeZaloApi() as api:
        poll = asyncio.create_task(call(client, api, "getUpdates", {"timeout": "30"}))
        await api.wait_for("getUpdates", answered=False)
        poll.cancel()
        with pytest.raises(asyncio.CancelledError):
            await poll
        await api.wait_for("getUpdates")  # the server noticed the client went away
        event = api.queue(text_event("vẫn còn"))
        assert (await call(client, api, "getUpdates", {"timeout": "1"}))[1]["result"] == event
        open_poll = asyncio.create_task(call(client, api, "getUpdates", {"timeout": "30"}))
        await api.wait_for("getUpdates", count=3, answered=False)
        started = time.monotonic()
    assert time.monotonic() - started < 2
    assert (await open_poll)[0] == 408
