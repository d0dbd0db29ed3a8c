"""The composition root: the one place that sees every layer and wires the bot together (the
adapters, the core's use cases on them, and the Telegram skin given the use cases only)."""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import httpx
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

from bot.adapters.panel_http.client import PanelClient
from bot.adapters.payments.midtrans import MidtransGateway
from bot.adapters.payments.qr import qr_png
from bot.adapters.payments.qris import parse_static, qris_invoice
from bot.adapters.payments.server import CallbackServer
from bot.adapters.payments.tripay import TripayGateway
from bot.adapters.sandbox.panel import SANDBOX_KEY, SandboxPanel
from bot.adapters.sqlite.store import SqliteStore
from bot.config import DEFAULT_PANEL_URL, Settings
from bot.core.accounts import Accounts
from bot.core.actor import Access
from bot.core.balance import PanelBalance, PanelCurrency
from bot.core.broadcasts import Broadcasts
from bot.core.browsing import Browsing
from bot.core.catalog import Catalog
from bot.core.checkout import Checkout, UnsavedOutcomes, resolve_interrupted
from bot.core.limits import UserRateLimit
from bot.core.mass_order import MassOrders
from bot.core.my_orders import MyOrders
from bot.core.order_actions import OrderActions
from bot.core.payments import Gateway, Invoice, PaymentMethod, PaymentRequest
from bot.core.promo import Promotions
from bot.core.referrals import ReferralProgram
from bot.core.shop import Shop, ShopRules
from bot.core.stats import Statistics
from bot.core.support import Support
from bot.core.topups import TopUps
from bot.core.tracking import OrderTracking
from bot.core.unknown_outcome import UnknownOutcomes
from bot.telegram import errors, gate, runtime
from bot.telegram.context import BotContext, Services, UserData
from bot.telegram.features.admin import handlers as admin
from bot.telegram.features.balance import handlers as balance
from bot.telegram.features.broadcasts import handlers as broadcasts_feature
from bot.telegram.features.checkout import handlers as checkout
from bot.telegram.features.mass import handlers as mass
from bot.telegram.features.orders import handlers as orders
from bot.telegram.features.payments import handlers as payments
from bot.telegram.features.promo import handlers as promo
from bot.telegram.features.referrals import handlers as referrals
from bot.telegram.features.settings import language, notifications
from bot.telegram.features.start import handlers as start
from bot.telegram.features.start.handlers import bot_commands
from bot.telegram.features.support import handlers as support
from bot.telegram.features.wallet import handlers as wallet
from bot.telegram.i18n import I18n
from bot.telegram.jobs.broadcast import BroadcastJob
from bot.telegram.jobs.mass import MassOrderJob
from bot.telegram.jobs.payments import PaymentsJob
from bot.telegram.jobs.tracker import TrackerJob
from bot.telegram.persistence import StorePersistence
from bot.telegram.processor import PerUserUpdateProcessor

log = logging.getLogger(__name__)

BotApplication = Application[Any, BotContext, UserData, dict[Any, Any], Services, Any]


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


@dataclass(frozen=True, slots=True)
class Components:
    """What the composition root built beside the use cases: the adapters and the parts that
    start and stop with the process (and that tests and tools reach for)."""

    settings: Settings
    store: SqliteStore
    panel: PanelClient
    catalog: Catalog
    tracking: OrderTracking
    unsaved: UnsavedOutcomes
    services: Services
    payments_http: httpx.AsyncClient | None = None
    """The gateways' HTTP client (None when no gateway is enabled)."""
    payments_server: CallbackServer | None = None
    """The callbacks' web server, started with the bot when a gateway is enabled."""

    async def open(self) -> None:
        """The store opened (checked, locked, migrated) and the submissions a stop
        interrupted resolved, once. Raises `DatabaseUnusable` or `StorageFailed`."""
        if self.store.is_open:
            return
        await self.store.open()
        await resolve_interrupted(self.store)


def payment_gateways(
    settings: Settings, http: httpx.AsyncClient, clock: Callable[[], float]
) -> dict[PaymentMethod, Gateway]:
    """The gateways PAYMENTS enables, told where to send their callbacks when the bot has a
    public URL (PAYMENTS_PUBLIC_URL)."""
    public = settings.payments_public_url
    gateways: dict[PaymentMethod, Gateway] = {}
    if PaymentMethod.TRIPAY in settings.payments:
        assert settings.tripay_api_key and settings.tripay_private_key
        gateways[PaymentMethod.TRIPAY] = TripayGateway(
            api_key=settings.tripay_api_key,
            private_key=settings.tripay_private_key,
            merchant_code=settings.tripay_merchant_code or "",
            http=http,
            url=settings.tripay_url,
            channels=settings.tripay_methods,
            callback_url=f"{public}/payments/tripay" if public else None,
            clock=clock,
        )
    if PaymentMethod.MIDTRANS in settings.payments:
        assert settings.midtrans_server_key
        gateways[PaymentMethod.MIDTRANS] = MidtransGateway(
            server_key=settings.midtrans_server_key,
            http=http,
            url=settings.midtrans_url,
            callback_url=f"{public}/payments/midtrans" if public else None,
            clock=clock,
        )
    return gateways


def top_ups(
    settings: Settings,
    store: SqliteStore,
    shop: Shop,
    currency: PanelCurrency,
    clock: Callable[[], float],
) -> tuple[TopUps, httpx.AsyncClient | None]:
    """The automatic top-ups PAYMENTS enables, and the HTTP client of their gateways."""
    http = None
    gateways: dict[PaymentMethod, Gateway] = {}
    if {PaymentMethod.TRIPAY, PaymentMethod.MIDTRANS} & set(settings.payments):
        http = httpx.AsyncClient(timeout=15.0)
        gateways = payment_gateways(settings, http, clock)
    qris = None
    if PaymentMethod.QRIS in settings.payments and settings.qris_static:
        static, rng = parse_static(settings.qris_static), random.SystemRandom()

        def qris(request: PaymentRequest, taken: AbstractSet[Decimal]) -> Invoice:
            return qris_invoice(static, request, taken=taken, rng=rng, now=clock())

    topups = TopUps(
        store,
        shop,
        currency,
        methods=[PaymentMethod(name) for name in settings.payments],
        gateways=gateways,
        channels={PaymentMethod.TRIPAY: settings.tripay_methods},
        stars_rate=settings.stars_rate,
        qris=qris,
        qr_image=qr_png,
        polling=not settings.payments_public_url,
        clock=clock,
    )
    return topups, http


def build(settings: Settings, panel: PanelClient, clock: Callable[[], float]) -> Components:
    """Every use case, each given what it uses."""
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
        automatic_payments=any(name != PaymentMethod.MANUAL for name in settings.payments),
        referral_percent=settings.referral_percent if settings.wallets else Decimal(0),
    )
    access = Access(
        admin_ids=settings.admin_ids,
        allowed_ids=settings.allowed_ids,
        open_signup=settings.open_signup,
        wallets=settings.wallets,
    )
    shop = Shop(rules, store, catalog, currency, balance, clock)
    topups, payments_http = top_ups(settings, store, shop, currency, clock)
    unsaved = UnsavedOutcomes(store)
    tracking = OrderTracking(
        store,
        panel,
        balance,
        poll_interval=settings.poll_interval,
        low_balance=settings.low_balance,
        admin_ids=settings.admin_ids,
        clock=clock,
    )
    actions = OrderActions(store, panel, tracking, clock)
    accounts = Accounts(store)
    broadcasts = Broadcasts(store, settings.default_language, clock)
    mass_orders = MassOrders(store, panel, shop, currency, unsaved)
    tracker = TrackerJob(
        tracking,
        store.outbox,
        accounts,
        i18n,
        unsaved,
        admin_ids=settings.admin_ids,
        interval=settings.poll_interval,
        clock=clock,
    )
    services = Services(
        i18n=i18n,
        access=access,
        accounts=accounts,
        browsing=Browsing(store, shop),
        checkout=Checkout(store, panel, shop, balance, currency, unsaved),
        orders=MyOrders(store, tracking, actions),
        actions=actions,
        unknown=UnknownOutcomes(store, panel, settings.poll_interval, clock),
        mass=mass_orders,
        shop=shop,
        stats=Statistics(store, panel, shop, clock),
        balance=balance,
        currency=currency,
        limits=UserRateLimit(clock=clock),
        tracker=tracker,
        mass_job=MassOrderJob(mass_orders, accounts, i18n, clock=clock),
        topups=topups,
        payments_job=PaymentsJob(topups, tracker),
        referrals=ReferralProgram(store, rules.referral_percent, settings.admin_ids, clock),
        promos=Promotions(store, clock),
        support=Support(store, settings.admin_ids),
        broadcasts=broadcasts,
        broadcast_job=BroadcastJob(
            broadcasts,
            accounts,
            i18n,
            clock=clock,
            delivered=tracker.deliver_soon,
            shared=tracker.send_rate,
        ),
    )
    server = None
    if payments_http is not None:
        server = CallbackServer(
            lambda name, body, headers: services.payments_job.callback(name, body, headers),
            settings.payments_listen,
            settings.payments_port,
        )
    return Components(
        settings, store, panel, catalog, tracking, unsaved, services, payments_http, server
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
) -> tuple[BotApplication, Components]:
    """Build the bot. Nothing is opened here: the store opens with `Components.open` (or, in
    tests, in post_init), the rest in post_init; they close in post_shutdown. Tests pass their
    own panel client and Bot API request."""
    parts = build(settings, panel or panel_client(settings), clock)
    state = parts.services

    async def tell_too_busy(update: Update) -> None:
        await gate.too_busy(update, application)  # called only once the bot runs

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
                bot_data=cast(type[Services], lambda: state),
            )
        )
        .persistence(StorePersistence(parts.store.sessions, parts.open))
        .concurrent_updates(PerUserUpdateProcessor(tell_too_busy, show_typing))
        # Group limits, and 429 answers waited out and retried. No overall limit on replies:
        # the bulk sender, the tracker, paces its notifications below Telegram's limit itself.
        .rate_limiter(AIORateLimiter(overall_max_rate=0, max_retries=5))
        .post_init(lambda application: _post_init(application, parts))
        .post_stop(_post_stop)
        .post_shutdown(lambda application: _post_shutdown(application, parts))
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        calls, updates = runtime.bot_api_requests(base_url)
        builder = builder.request(calls).get_updates_request(updates)
    application: BotApplication = builder.build()

    gate.register(application)
    start.register(application)
    language.register(application)
    balance.register(application)
    checkout.register(application, settings.conversation_timeout, clock)
    orders.register(application)
    mass.register(application)
    wallet.register(application, settings.wallets)
    payments.register(application, settings.wallets, settings.admin_ids)
    notifications.register(application)
    admin.register(application, settings.admin_ids, settings.wallets)
    referrals.register(application, settings.wallets)
    promo.register(application, settings.admin_ids, settings.wallets)
    support.register(application, settings.admin_ids)
    broadcasts_feature.register(application, settings.admin_ids)
    state.tracker.register(application)
    if settings.wallets and state.topups.automatic:
        state.payments_job.register(application)
    gate.register_fallbacks(application)
    errors.register(application)
    return application, parts


async def _post_init(application: BotApplication, parts: Components) -> None:
    state = application.bot_data
    await parts.open()  # opened already (by the runner, or the persistence): nothing then
    await parts.catalog.load_cached()
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
    state.payments_job.bot = application.bot
    if parts.payments_server is not None and not parts.settings.webhook_url:
        await parts.payments_server.start()  # with webhooks: on the webhook's server
    await state.broadcast_job.resume(application.bot)
    runtime.freeze_startup_objects()
    settings = parts.settings
    log.info("bot started; panel %s", "sandbox" if settings.uses_sandbox else parts.panel.url)
    if not settings.admin_ids:
        log.warning(
            "no ADMIN_IDS: nobody can manage the bot. Write to it: it answers with your "
            "Telegram id, and this log shows it; put it in ADMIN_IDS and restart"
        )


async def _post_stop(application: BotApplication) -> None:
    """Before the Bot API client closes: running mass orders stop between two lines, and a
    delivery of the outbox under way ends."""
    await application.bot_data.mass_job.stop()
    await application.bot_data.broadcast_job.stop()
    await application.bot_data.tracker.delivered()


async def _post_shutdown(application: BotApplication, parts: Components) -> None:
    if parts.payments_server is not None:
        await parts.payments_server.stop()
    if parts.payments_http is not None:
        await parts.payments_http.aclose()
    application.bot_data.balance.close()
    await parts.catalog.aclose()
    await parts.panel.aclose()
    await parts.store.close()
