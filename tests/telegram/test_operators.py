"""Issue 25, point 12 through the real screens: what operators read."""

from __future__ import annotations

from pathlib import Path

from tests.harness import ADMIN, USER, Harness

SHOP = {"wallets": "on", "markup_percent": "25"}


async def test_the_admins_help_lists_the_admin_commands(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        admin = await bot.say(ADMIN, "/help")
        assert "Admin commands" in admin.text
        for command in ("/stats", "/credit", "/debit", "/wallet", "/limit", "/markup"):
            assert command in admin.text, command
        user = await bot.say(USER, "/help")
        assert "Admin commands" not in user.text and "/credit" not in user.text
        admin = await bot.say(ADMIN, "/help", language="id")
        assert "/markup" in admin.text


async def test_markup_of_a_category_that_does_not_exist_suggests_the_closest(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        reply = await bot.say(ADMIN, "/markup category Instagram Folowers 40")
        assert "There is no category “Instagram Folowers”" in reply.text
        assert "<code>Instagram Followers</code>" in reply.text
        assert await bot.state.shop.markup_rules() == {}
        reply = await bot.say(ADMIN, "/markup category instagram followers 40")
        assert "Category Instagram Followers: 40%" in reply.text  # the catalog's own name
        assert "MARKUP_PERCENT" not in reply.text  # no setting names on screens
        assert "Where no rule applies: 25%" in reply.text


async def test_the_wallet_of_someone_who_is_not_a_user(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        reply = await bot.say(ADMIN, "/wallet 424242")
        assert "User 424242 has never used this bot" in reply.text
        await bot.say(USER, "/start")
        await bot.say(ADMIN, f"/limit {USER} 2000")
        page = await bot.say(ADMIN, f"/wallet {USER}")
        assert "the customer may order down to" in page.text and "you may" not in page.text


async def test_credit_and_debit_tell_the_customer_with_the_new_balance(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await bot.say(USER, "/start", language="id")
        await bot.say(ADMIN, f"/credit {USER} 50000 welcome")
        told = bot.last(USER)
        assert "Operator menambahkan Rp50.000 ke saldo Anda" in told.text
        assert "Saldo: <b>Rp50.000</b>" in told.text and "welcome" in told.text
        assert [t for t, _ in told.buttons][-1] == "🏠 Menu"
        await bot.say(ADMIN, f"/debit {USER} 20000")
        assert "Rp30.000" in bot.last(USER).text
        await bot.say(ADMIN, f"/debit {USER} 999999")  # refused: the customer is not told
        assert "Rp30.000" in bot.last(USER).text


async def test_credit_usage_says_what_was_wrong(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        reply = await bot.say(ADMIN, "/credit someone 100")
        assert "“someone” is not a user id." in reply.text and "Usage: /credit" in reply.text
        reply = await bot.say(ADMIN, f"/credit {USER} lots")
        assert "“lots” is not an amount" in reply.text
        reply = await bot.say(ADMIN, f"/debit {USER}")
        assert "The amount is missing." in reply.text and "Usage: /debit" in reply.text


async def test_the_top_up_instructions_have_a_cancel(tmp_path: Path) -> None:
    shop = {**SHOP, "deposit_instructions": "Transfer to BCA 123456", "deposit_min": "10000"}
    async with Harness(tmp_path, **shop) as bot:
        balance = await bot.say(USER, "/balance")
        await bot.tap(USER, balance.button("➕"))
        instructions = await bot.say(USER, "50000")
        assert "BCA 123456" in instructions.text
        canceled = await bot.tap(USER, instructions.button("✖️"))
        assert "Top-up canceled" in canceled.text and canceled.button("🛒")
        assert await bot.store.deposits.awaiting_proof(USER) is None
        reply = await bot.say(USER, "ref 42")  # a proof now: nothing is waiting for one
        assert "No service matches" in reply.text  # not taken for a proof
        again = await bot.tap(USER, instructions.button("✖️"), language="id")
        assert "Tidak ada top up yang menunggu pembayaran" in again.text
