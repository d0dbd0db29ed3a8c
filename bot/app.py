"""`build_application`: the one place where the bot is wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, cast

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    Defaults,
)
from telegram.request import BaseRequest

from bot.adapters.panel_http.client import PanelClient
from bot.adapters.sandbox.panel import SANDBOX_KEY, SandboxPanel
from bot.adapters.sqlite.store import SqliteStore
from bot.config import DEFAULT_PANEL_URL, Settings
from bot.core.balance import PanelBalance, PanelCurrency
from bot.core.catalog import Catalog
from bot.core.checkout import UnsavedOutcomes, resolve_interrupted
from bot.core.limits import UserRateLimit
from bot.core.mass_order import MassOrders
from bot.core.order_actions import OrderActions
from bot.core.shop import Shop, ShopRules
from bot.core.tracking import OrderTracking
from bot.core.unknown_outcome import UnknownOutcomes
from bot.telegram import runtime
from bot.telegram.context import AppState, BotContext, UserData
from bot.telegram.handlers import (
    access,
    admin,
    balance,
    checkout,
    errors,
    language,
    mass,
    notifications,
    orders,
    shop,
    start,
)
from bot.telegram.handlers.start import bot_commands
from bot.telegram.i18n import I18n
from bot.telegram.jobs.mass import MassOrderJob
from bot.telegram.jobs.tracker import TrackerJob
from bot.telegram.persistence import StorePersistence

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 512
UNLIMITED = 2**31 - 1
MAX_QUEUED_PER_USER = 10
"""A user's updates waiting behind their running one; more are dropped with one notice."""
SLOW_AFTER = 2.0
"""Seconds an update may take before the user sees "typing…" (a slow panel, say)."""
TYPING_EVERY = 4.5
"""Telegram shows a chat action for 5 s: it is sent again while the update runs."""

BotApplication = Application[Any, BotContext, UserData, dict[Any, Any], AppState, Any]


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Updates of one user run in order; different users run in parallel, so a slow panel
    answer for one user never stalls the others.

    A user's update waits for that user's earlier ones before it takes one of the shared
    slots. PTB's (final) `process_update` takes its slot before `do_process_update` runs, so
    one user's queue could hold them all: its limit is set out of reach and the real one
    (`max_concurrent_updates`) is taken after the user's lock. Beyond `max_queued` waiting
    updates, a user's further updates are dropped and they are told once (`on_overflow`).
    An update still running after `slow_after` seconds gets `on_slow` (the "typing…" action)
    every `TYPING_EVERY` seconds until it is done."""

    def __init__(
        self,
        on_overflow: Callable[[Update], Awaitable[None]],
        on_slow: Callable[[Update], Awaitable[None]],
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
        max_queued: int = MAX_QUEUED_PER_USER,
        slow_after: float = SLOW_AFTER,
    ) -> None:
        super().__init__(UNLIMITED)
        self._on_overflow = on_overflow
        self._on_slow = on_slow
        self._slow_after = slow_after
        self._max_queued = max_queued
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._pending: Counter[int] = Counter()
        self._told: set[int] = set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            async with self._slots:
                await coroutine
            return
        if self._pending[user.id] > self._max_queued:
            if asyncio.iscoroutine(coroutine):
                coroutine.close()
            if user.id not in self._told:
                self._told.add(user.id)
                await self._on_overflow(update)  # type: ignore[arg-type]
            return
        lock = self._locks.setdefault(user.id, asyncio.Lock())
        self._pending[user.id] += 1
        try:
            async with lock, self._slots:
                await self._run(update, coroutine)  # type: ignore[arg-type]
        finally:
            self._pending[user.id] -= 1
            if not self._pending[user.id]:
                del self._pending[user.id]
                del self._locks[user.id]
                self._told.discard(user.id)

    async def _run(self, update: Update, coroutine: Awaitable[Any]) -> None:
        """Run the update; past `slow_after` seconds, keep the user told that it runs. Only a
        timer per update: the task that tells is made for the slow ones alone."""
        typing: list[asyncio.Task[None]] = []
        timer = asyncio.get_running_loop().call_later(
            self._slow_after, lambda: typing.append(asyncio.create_task(self._typing(update)))
        )
        try:
            await coroutine
        finally:
            timer.cancel()
            for task in typing:
                task.cancel()

    async def _typing(self, update: Update) -> None:
        while True:
            try:
                await self._on_slow(update)
            except Exception:  # a courtesy: never an error of the update it accompanies
                log.debug("typing action not sent", exc_info=True)
                return
            await asyncio.sleep(TYPING_EVERY)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def sandbox_panel_client(sandbox: SandboxPanel | None = None) -> PanelClient:
    """A client talking to an in-process sandbox panel (PANEL_URL=sandbox)."""
    sandbox = sandbox or SandboxPanel()
    http = runtime.AcyclicAsyncClient(transport=sandbox.transport())
    return PanelClient("http://sandbox/api/v2", SANDBOX_KEY, http=http, pause=runtime.gc_paused)


def panel_client(settings: Settings) -> PanelClient:
    """The client of the configured panel (the sandbox with PANEL_URL=sandbox)."""
    if settings.uses_sandbox:
        return sandbox_panel_client()
    assert settings.panel_key is not None
    return PanelClient(
        settings.panel_url,
        settings.panel_key,
        http=runtime.AcyclicAsyncClient(timeout=settings.panel_timeout),
        concurrency=settings.panel_concurrency,
        pause=runtime.gc_paused,
    )


def build_state(settings: Settings, panel: PanelClient, clock: Callable[[], float]) -> AppState:
    """Every service, each given what it uses."""
    store = SqliteStore(settings.database_path, clock)
    i18n = I18n(settings.default_language)
    currency = PanelCurrency(store.kv, default_currency(settings))
    balance = PanelBalance(panel, currency, clock=clock)
    catalog = Catalog(
        panel, store.services, ttl=settings.catalog_ttl, clock=clock, pause=runtime.gc_paused
    )
    rules = ShopRules(
        wallets=settings.wallets,
        admin_ids=settings.admin_ids,
        markup_percent=settings.markup_percent,
        deposit_min=settings.deposit_min,
        deposit_max=settings.deposit_max,
        deposit_instructions=settings.deposit_instructions,
    )
    shop = Shop(rules, store, catalog, currency, balance)
    unsaved = UnsavedOutcomes()
    mass_orders = MassOrders(store, panel, shop, currency, unsaved)
    tracking = OrderTracking(
        store,
        panel,
        balance,
        poll_interval=settings.poll_interval,
        low_balance=settings.low_balance,
        admin_ids=settings.admin_ids,
        clock=clock,
    )
    return AppState(
        settings=settings,
        i18n=i18n,
        store=store,
        panel=panel,
        catalog=catalog,
        currency=currency,
        balance=balance,
        actions=OrderActions(store, panel, tracking, clock),
        tracking=tracking,
        tracker=TrackerJob(
            tracking,
            store,
            i18n,
            unsaved,
            admin_ids=settings.admin_ids,
            interval=settings.poll_interval,
            clock=clock,
        ),
        mass=mass_orders,
        shop=shop,
        mass_job=MassOrderJob(mass_orders, store, i18n, clock=clock),
        user_limit=UserRateLimit(clock=clock),
        unknown=UnknownOutcomes(store, panel, settings.poll_interval, clock),
        unsaved=unsaved,
        clock=clock,
    )


def default_currency(settings: Settings) -> str:
    """IDR for the default panel and the sandbox until the panel names one; else none."""
    return "IDR" if settings.uses_sandbox or settings.panel_url == DEFAULT_PANEL_URL else ""


def build_application(
    settings: Settings,
    *,
    panel: PanelClient | None = None,
    request: BaseRequest | None = None,
    clock: Callable[[], float] = time.time,
) -> BotApplication:
    """Build the bot. Nothing is opened here: resources open in post_init, close in
    post_shutdown. Tests pass their own panel client and Bot API request."""
    state = build_state(settings, panel or panel_client(settings), clock)

    async def tell_too_busy(update: Update) -> None:
        await access.too_busy(update, application)  # called only once the bot runs

    async def show_typing(update: Update) -> None:
        if update.effective_chat is not None:
            with contextlib.suppress(TelegramError):
                await application.bot.send_chat_action(update.effective_chat.id, "typing")

    base_url = settings.telegram_api_url.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(base_url)
        .base_file_url(base_url.removesuffix("/bot") + "/file/bot")
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # PTB makes bot_data by calling this with no arguments: it hands over the state built
        # above (the persistence does not store bot_data).
        .context_types(
            ContextTypes(
                context=BotContext,
                user_data=UserData,
                bot_data=cast(type[AppState], lambda: state),
            )
        )
        .persistence(StorePersistence(state.store.sessions, state.store.open))
        .concurrent_updates(PerUserUpdateProcessor(tell_too_busy, show_typing))
        # Group limits, and 429 answers waited out and retried. No overall limit on replies:
        # the bulk sender, the tracker, paces its notifications below Telegram's limit itself.
        .rate_limiter(AIORateLimiter(overall_max_rate=0, max_retries=5))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        calls, updates = runtime.bot_api_requests(base_url)
        builder = builder.request(calls).get_updates_request(updates)
    application: BotApplication = builder.build()

    access.register(application)
    start.register(application)
    language.register(application)
    balance.register(application)
    checkout.register(application)
    orders.register(application)
    mass.register(application)
    shop.register(application)
    notifications.register(application)
    admin.register(application)
    state.tracker.register(application)
    start.register_fallbacks(application)
    errors.register(application)
    return application


async def _post_init(application: BotApplication) -> None:
    state = application.bot_data
    await state.store.open()
    await resolve_interrupted(state.store)
    await state.catalog.load_cached()
    await state.currency.load()
    state.balance.learn()
    i18n = state.i18n
    try:
        await application.bot.set_my_commands(bot_commands(i18n.get(i18n.default_language)))
        for code in i18n.languages:
            await application.bot.set_my_commands(bot_commands(i18n.get(code)), language_code=code)
    except TelegramError as exc:
        log.warning("the command menu was not set (%s); it is set again at the next start", exc)
    await state.mass_job.resume(application.bot)
    runtime.freeze_startup_objects()
    panel = "sandbox" if state.settings.uses_sandbox else state.panel.url
    log.info("bot started; panel %s", panel)
    if not state.settings.admin_ids:
        log.warning(
            "no ADMIN_IDS: nobody can manage the bot. Write to it: it answers with your "
            "Telegram id, and this log shows it; put it in ADMIN_IDS and restart"
        )


async def _post_stop(application: BotApplication) -> None:
    """Before the Bot API client closes: running mass orders stop between two lines, and a
    delivery of the outbox under way ends."""
    await application.bot_data.mass_job.stop()
    await application.bot_data.tracker.delivered()


async def _post_shutdown(application: BotApplication) -> None:
    state = application.bot_data
    state.balance.close()
    await state.catalog.aclose()
    await state.panel.aclose()
    await state.store.close()
