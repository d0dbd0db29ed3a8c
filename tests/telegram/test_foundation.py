"""The base: access control, menu, language, error handler, persistence, per-user order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
from telegram import Chat, Message, Update, User
from telegram.ext import CommandHandler

from bot.adapters.panel_http.client import PanelClient
from bot.adapters.sandbox.panel import SANDBOX_KEY, SandboxPanel
from bot.adapters.sqlite.backup import backup
from bot.core.balance import BALANCE_TTL
from bot.telegram import callback as cb
from bot.telegram.processor import PerUserUpdateProcessor
from tests.harness import ADMIN, OTHER, STRANGER, USER, Harness, eventually


async def test_start_shows_the_main_menu(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        reply = await bot.say(USER, "/start")
        assert "Welcome" in reply.text
        labels = [text for text, _ in reply.buttons]
        assert labels == [
            "🛒 New order",
            "📋 Mass order",
            "📦 My orders",
            "💰 Balance",
            "🌐 Language",
            "❓ Help",
            "🆘 Support",
        ]
        reply = await bot.tap(USER, reply.button("❓"))
        assert "/status" in reply.text and "/refill_status" in reply.text


async def test_a_stranger_gets_one_polite_refusal_with_their_id_and_nothing_else(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path) as bot:
        calls = dict(bot.sandbox.calls)  # the bot's own, at start
        for text in ("/start", "/balance", "/orders", "/order", "/status 1001", "hello"):
            before = len(bot.request.sent(STRANGER))
            reply = await bot.say(STRANGER, text)
            assert len(bot.request.sent(STRANGER)) == before + 1
            assert str(STRANGER) in reply.text and "private" in reply.text
            assert reply.buttons == []
        await bot.tap(STRANGER, cb.NEW_ORDER())
        assert bot.answers()[-1].params["text"] == "Sorry, this bot is private."
        assert dict(bot.sandbox.calls) == calls
        assert await bot.store.users.get(STRANGER) is None


async def test_only_admins_when_no_allowed_ids(tmp_path: Path) -> None:
    async with Harness(tmp_path, allowed_ids="") as bot:
        assert "private" in (await bot.say(USER, "/start")).text
        assert "Welcome" in (await bot.say(ADMIN, "/start")).text


async def test_language_from_telegram_then_from_the_users_choice(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        assert "Selamat datang" in (await bot.say(USER, "/start", language="id")).text
        assert "Welcome" in (await bot.say(OTHER, "/start", language="fr")).text  # default
        reply = await bot.say(OTHER, "/language", language="fr")
        assert [t for t, _ in reply.buttons] == ["✅ English", "Bahasa Indonesia", "🏠 Menu"]
        reply = await bot.tap(OTHER, reply.button("Bahasa Indonesia"), language="fr")
        assert "Bahasa sudah diganti" in reply.text
        assert "Selamat datang" in (await bot.say(OTHER, "/start", language="en")).text
        scoped = [
            c for c in bot.request.calls if c.method == "setMyCommands" and "scope" in c.params
        ]
        assert scoped and "Order" in str(scoped[-1].params["commands"])


async def test_command_menus_are_set_per_language(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        calls = [c for c in bot.request.calls if c.method == "setMyCommands"]
        menus = {
            c.params.get("language_code"): {
                command["command"]: command["description"] for command in c.params["commands"]
            }
            for c in calls
        }
        assert set(menus) == {None, "en", "id"}
        names = [
            "order",
            "mass",
            "orders",
            "status",
            "refill",
            "refill_status",
            "cancel",
            "balance",
        ]
        assert all(list(menu)[: len(names)] == names for menu in menus.values())
        assert menus["en"]["order"] == menus[None]["order"] == "Place a new order"
        assert menus["id"]["order"] == "Buat order baru"
        assert menus["id"]["balance"] != menus["en"]["balance"]


async def test_stray_text_and_unknown_commands_get_a_hint(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        assert "/help" in (await bot.say(USER, "hello?")).text
        assert "/help" in (await bot.say(USER, "/nonsense")).text


async def test_a_forged_or_stale_button_is_answered_as_expired(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        for data in (
            "garbage",
            "0o",
            "1k:zzzzzzzz:0",
            "1s:99999",
            "1r:424242",
            "1y:nope",
            "1L:xx",
            "9" * 64,
            "",
        ):
            reply = await bot.tap(USER, data)
            assert "expired" in reply.text, data
            assert reply.buttons  # a fresh menu


async def test_the_error_handler_says_try_again_and_shows_no_internals(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:

        async def broken(update: object, context: object) -> None:
            raise RuntimeError("internal detail /secret/path")

        bot.app.add_handler(CommandHandler("boom", broken), group=-1)
        await bot.say(USER, "/boom", language="id")
        texts = [c.text for c in bot.request.sent(USER)]
        assert "Maaf, terjadi kesalahan. Silakan coba lagi." in texts
        assert not any("secret" in text for text in texts)


async def test_a_restart_in_the_middle_of_a_conversation_continues_it(tmp_path: Path) -> None:
    sandbox = SandboxPanel()
    async with Harness(tmp_path, sandbox) as bot:
        await bot.tap(USER, cb.START_ORDER(1))
        reply = await bot.say(USER, "https://instagram.com/p/abc")
        assert "quantity" in reply.text
    async with Harness(tmp_path, sandbox) as bot:  # a new process on the same database
        reply = await bot.say(USER, "500")
        assert "Check your order" in reply.text and "https://instagram.com/p/abc" in reply.text


async def test_a_confirm_button_on_screen_survives_a_crash(tmp_path: Path) -> None:
    """The draft is stored when the summary is shown, not at the next periodic save: a copy
    of the database taken at that moment (what a SIGKILL leaves) holds it."""
    sandbox = SandboxPanel()
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    async with Harness(tmp_path, sandbox) as bot:
        await bot.tap(USER, cb.START_ORDER(1))
        await bot.say(USER, "https://instagram.com/p/abc")
        reply = await bot.say(USER, "500")
        summary = reply
        confirm = summary.button("✅")
        backup(tmp_path / "bot.db", crashed / "bot.db")
    async with Harness(crashed, sandbox) as bot:
        reply = await bot.tap(USER, confirm)
        assert "Order placed" in reply.text, reply.text
    assert sandbox.calls["add"] == 1


async def test_updates_of_one_user_run_in_order_and_users_run_in_parallel() -> None:
    told: list[Update] = []

    async def tell(update: Update) -> None:
        told.append(update)

    async def typing(update: Update) -> None:
        raise AssertionError("no update here is slow")

    processor = PerUserUpdateProcessor(tell, typing, max_queued=1)
    order: list[str] = []

    def update_from(user_id: int) -> Update:
        user = User(id=user_id, first_name="u", is_bot=False)
        message = Message(1, datetime.now(UTC), Chat(user_id, "private"), from_user=user)
        return Update(1, message=message)

    b_done = asyncio.Event()

    async def work(name: str) -> None:
        order.append(f"{name} start")
        if name == "a1":
            await b_done.wait()  # a1 is slow: it ends only once the other user was served
        order.append(f"{name} end")
        if name == "b":
            b_done.set()

    updates = asyncio.gather(
        processor.process_update(update_from(1), work("a1")),
        processor.process_update(update_from(1), work("a2")),
        processor.process_update(update_from(2), work("b")),
        processor.process_update(update_from(1), work("a3")),  # beyond the queue
        processor.process_update(update_from(1), work("a4")),
    )
    await asyncio.wait_for(updates, 5)  # b never waits behind a1
    assert order.index("a1 end") < order.index("a2 start")  # one user: in order
    assert order.index("b end") < order.index("a1 end")  # another user: not kept waiting
    assert "a3 start" not in order and "a4 start" not in order  # dropped
    assert len(told) == 1  # and told once


async def test_a_slow_update_shows_typing_until_it_is_done() -> None:
    typing: list[int] = []

    async def tell(update: Update) -> None:
        raise AssertionError("nothing overflows here")

    async def show_typing(update: Update) -> None:
        assert update.effective_chat is not None
        typing.append(update.effective_chat.id)

    processor = PerUserUpdateProcessor(tell, show_typing, slow_after=0.05)
    user = User(id=7, first_name="u", is_bot=False)
    update = Update(1, message=Message(1, datetime.now(UTC), Chat(7, "private"), from_user=user))
    await processor.process_update(update, asyncio.sleep(0.01))
    await asyncio.sleep(0.1)
    assert typing == []  # a quick update: no chat action, no task
    await processor.process_update(update, asyncio.sleep(0.2))
    assert typing == [7]  # once past 0.05 s (then every 4.5 s while it runs)
    await asyncio.sleep(0.1)
    assert typing == [7]  # and no more once it is done


async def test_a_failing_typing_action_does_not_fail_the_update() -> None:
    async def tell(update: Update) -> None:
        raise AssertionError("nothing overflows here")

    async def broken(update: Update) -> None:
        raise RuntimeError("the bot is stopping")

    processor = PerUserUpdateProcessor(tell, broken, slow_after=0.01)
    user = User(id=7, first_name="u", is_bot=False)
    update = Update(1, message=Message(1, datetime.now(UTC), Chat(7, "private"), from_user=user))
    done: list[bool] = []

    async def work() -> None:
        await asyncio.sleep(0.1)
        done.append(True)

    await processor.process_update(update, work())
    assert done == [True]


async def test_a_slow_panel_for_one_user_does_not_stall_another(tmp_path: Path) -> None:
    sandbox = SandboxPanel()
    asked: list[bool] = []
    answer_balance = asyncio.Event()
    answer_balance.set()  # at start: at once

    async def handler(request: httpx.Request) -> httpx.Response:
        if b"action=balance" in request.content:
            asked.append(True)
            await answer_balance.wait()  # for A's /balance: until B was answered
        status, body, headers = sandbox.respond(dict(parse_qsl(request.content.decode())))
        return httpx.Response(status, content=body, headers=headers)

    panel = PanelClient(
        "http://panel.test",
        SANDBOX_KEY,
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    async with Harness(tmp_path, sandbox, panel=panel) as bot:
        bot.clock.advance(BALANCE_TTL)  # the balance learned at start is too old now
        await bot.app.start()  # updates now go through the update processor
        try:
            asked.clear()
            answer_balance.clear()
            await bot.app.update_queue.put(bot.message_update(USER, "/balance"))  # slow for A
            await eventually(lambda: asked)
            await bot.app.update_queue.put(bot.message_update(OTHER, "/help"))  # B
            await eventually(lambda: bot.request.sent(OTHER))  # B did not wait for A's call
            assert not bot.request.sent(USER)
            answer_balance.set()
            await eventually(lambda: bot.request.sent(USER))
            assert "Balance" in bot.last(USER).text
        finally:
            await bot.app.stop()
