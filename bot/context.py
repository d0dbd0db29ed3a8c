"""The typed context handlers receive: the panel, the store, the catalog and the translator."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import DEFAULT_PANEL_URL, Settings
from bot.i18n import I18n, Translator
from bot.ordering import OrderDraft
from bot.panel.errors import PanelFailure
from bot.panel.models import Balance, to_currency

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from bot.balance import PanelBalance
    from bot.catalog import Catalog
    from bot.jobs.tracker import Tracker
    from bot.limits import UserRateLimit
    from bot.order_actions import OrderActions
    from bot.panel.client import PanelClient
    from bot.storage.repositories import Store


class UserData:
    """What the bot keeps for one user between updates (persisted as JSON)."""

    __slots__ = ("draft", "retry", "search")

    def __init__(self) -> None:
        self.draft: OrderDraft | None = None
        """The order being filled in."""
        self.search: str | None = None
        """The last search, for paging through its results."""
        self.retry: str | None = None
        """A command the panel could not answer, for the Retry button."""

    def to_json(self) -> dict[str, Any]:
        return {
            "draft": self.draft.model_dump(mode="json") if self.draft else None,
            "search": self.search,
            "retry": self.retry,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserData:
        user_data = cls()
        if data.get("draft"):
            user_data.draft = OrderDraft.model_validate(data["draft"])
        user_data.search = data.get("search")
        user_data.retry = data.get("retry")
        return user_data


@dataclass
class AppState:
    """Everything shared by the handlers and jobs, set up by `build_application`."""

    settings: Settings = field(init=False)
    i18n: I18n = field(init=False)
    store: Store = field(init=False)
    panel: PanelClient = field(init=False)
    catalog: Catalog = field(init=False)
    tracker: Tracker = field(init=False)
    actions: OrderActions = field(init=False)
    balance: PanelBalance = field(init=False)
    user_limit: UserRateLimit = field(init=False)
    clock: Callable[[], float] = time.time
    currency: str = ""
    """The panel's currency, learned from its balance answers."""
    currency_task: asyncio.Task[None] | None = None

    async def load_currency(self) -> None:
        stored = await self.store.kv.get("currency")
        default = (
            "IDR"
            if self.settings.uses_sandbox or (self.settings.panel_url == DEFAULT_PANEL_URL)
            else ""
        )
        self.currency = to_currency(stored) or default  # a value stored by an older version

    async def learn_currency(self) -> None:
        """Ask the panel for its currency once, in the background: prices show it from the
        start, and a panel that is down delays nothing."""
        try:
            await self.balance.get()
        except PanelFailure as exc:
            log.info("the panel's currency is not known yet (%s)", exc)

    async def note_balance(self, balance: Balance) -> None:
        if balance.currency and balance.currency != self.currency:
            self.currency = balance.currency
            await self.store.kv.set("currency", balance.currency)


class BotContext(CallbackContext[ExtBot[None], UserData, dict[Any, Any], AppState]):
    __slots__ = ("_translator",)

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self._translator: Translator | None = None

    @property
    def state(self) -> AppState:
        return self.bot_data

    @property
    def data(self) -> UserData:
        """This user's data (every update handled here comes from a user)."""
        if self.user_data is None:
            raise RuntimeError("no user data for this update")
        return self.user_data

    @property
    def t(self) -> Translator:
        """The translator of the user of this update (set by the access gate)."""
        if self._translator is None:
            return self.bot_data.i18n.get(self.bot_data.i18n.default_language)
        return self._translator

    def use_language(self, language: str) -> None:
        self._translator = self.bot_data.i18n.get(language)
