"""Who a broadcast reaches, as the store finds them, and its recipients kept once."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from bot.adapters.sqlite.store import SqliteStore
from bot.core.broadcasts import split_buttons
from bot.core.records import EntryKind, RecipientState


async def test_each_audience_finds_its_users_and_leaves_out_notifications_off(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "bot.db", clock=lambda: 10 * 86_400.0)
    await store.open()
    try:
        for user, language in ((1, "en"), (2, "id"), (3, "en"), (4, None), (5, "id")):
            await store.users.touch(user, language)
        await store.users.set_language(4, "id")
        await store.users.set_notifications(5, False)
        await store.users.mark_blocked(3)
        await store.wallets.post(2, Decimal(10), EntryKind.CREDIT)
        repo = store.broadcasts
        assert await repo.audience("all", "", 0, "en") == [
            (1, False),
            (2, False),
            (3, True),
            (4, False),
        ]
        assert await repo.audience("wallet", "", 0, "en") == [(2, False)]
        assert await repo.audience("lang", "id", 0, "en") == [(2, False), (4, False)]
        assert [u for u, _ in await repo.audience("lang", "en", 0, "en")] == [1, 3]
        assert await repo.audience("days", "7", 3 * 86_400.0, "en") == []
        draft = await repo.create(1, "text", "Hi", None, [])
        await repo.set_audience(draft.id, "all")
        async with store.transaction() as tx:
            recipients = await tx.broadcasts.audience("all", "", 0, "en")
            assert await tx.broadcasts.start(draft.id, recipients, 1, 1)
        async with store.transaction() as tx:  # a second Send: nothing more
            assert not await tx.broadcasts.start(draft.id, recipients, 1, 1)
        tally = await repo.tally(draft.id)
        assert (tally.total, tally.pending, tally.blocked) == (4, 3, 1)
        await repo.record(draft.id, {1: RecipientState.SENDING})
        assert await repo.take(draft.id, 10) == [2, 4]
        assert await repo.give_up_sending(draft.id) == 1  # a crash left it in doubt
        assert (await repo.tally(draft.id)).failed == 1
    finally:
        await store.close()


def test_link_buttons_are_read_from_the_last_lines() -> None:
    body, buttons = split_buttons(
        "Sale!\n[not a button] here\n[Shop](https://t.me/shop?a=1&amp;b=2)\n[Help](http://x.io)"
    )
    assert body == "Sale!\n[not a button] here"
    assert buttons == [("Shop", "https://t.me/shop?a=1&b=2"), ("Help", "http://x.io")]
    assert split_buttons("[Only](javascript:alert(1))") == ("[Only](javascript:alert(1))", [])
