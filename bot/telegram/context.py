"""The typed context handlers receive: the panel, the store, the catalog and the translator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.core.checkout import OrderDraft, UnsavedOutcomes
from bot.telegram.i18n import I18n, Translator
from telegram.ext import Application, CallbackContext, ExtBot

if TYPE_CHECKING:
    from bot.adapters.panel_http.client import PanelClient
    from bot.core.balance import PanelBalance, PanelCurrency
    from bot.core.catalog import Catalog
    from bot.core.limits import UserRateLimit
    from bot.core.mass_order import MassOrders
    from bot.core.order_actions import OrderActions
    from bot.core.ports import Store
    from bot.core.shop import Shop
    from bot.core.tracking import OrderTracking
    from bot.core.unknown_outcome import UnknownOutcomes
    from bot.telegram.jobs.mass import MassOrderJob
    from bot.telegram.jobs.tracker import TrackerJob


@dataclass(frozen=True, slots=True)
class PendingRetry:
    """The command with ids (status, refill, refill_status, cancel) a Retry button runs again."""

    command: str
    ids: tuple[int, ...]

    @classmethod
    def from_json(cls, data: Any) -> PendingRetry | None:
        """Anything but [command, [ids]] (an older bot's string, say) is no retry."""
        if (
            isinstance(data, list)
            and len(data) == 2
            and isinstance(data[0], str)
            and isinstance(data[1], list)
            and all(type(i) is int for i in data[1])
        ):
            return cls(data[0], tuple(data[1]))
        return None


class UserData:
    """What the bot keeps for one user between updates (persisted as JSON)."""

    __slots__ = ("cancel", "draft", "retry", "screen", "search")

    def __init__(self) -> None:
        self.draft: OrderDraft | None = None
        """The order being filled in."""
        self.search: str | None = None
        """The last search, for paging through its results."""
        self.retry: PendingRetry | None = None
        """A command the panel could not answer, for the Retry button."""
        self.cancel: list[int] | None = None
        """The order ids a /cancel asked about, until the user answers."""
        self.screen: str | None = None
        """What the bot showed last, when typed text means something there (the orders
        list: it finds an order). Read and cleared by the access gate at every update."""

    def to_json(self) -> dict[str, Any]:
        return {
            "draft": self.draft.model_dump(mode="json") if self.draft else None,
            "search": self.search,
            "retry": [self.retry.command, list(self.retry.ids)] if self.retry else None,
            "cancel": self.cancel,
            "screen": self.screen,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserData:
        user_data = cls()
        if data.get("draft"):
            user_data.draft = OrderDraft.model_validate(data["draft"])
        user_data.search = data.get("search")
        user_data.retry = PendingRetry.from_json(data.get("retry"))
        user_data.cancel = data.get("cancel")
        screen = data.get("screen")
        user_data.screen = screen if isinstance(screen, str) else None
        return user_data


@dataclass(frozen=True, slots=True)
class AppState:
    """What the handlers and jobs share, each built with its collaborators and the whole
    assembled at once in `bot.app.build_state`."""

    settings: Settings
    i18n: I18n
    store: Store
    panel: PanelClient
    catalog: Catalog
    currency: PanelCurrency
    balance: PanelBalance
    actions: OrderActions
    tracking: OrderTracking
    tracker: TrackerJob
    mass: MassOrders
    shop: Shop
    mass_job: MassOrderJob
    user_limit: UserRateLimit
    unknown: UnknownOutcomes
    unsaved: UnsavedOutcomes
    clock: Callable[[], float]


class BotContext(CallbackContext[ExtBot[None], UserData, dict[Any, Any], AppState]):
    __slots__ = ("_translator", "came_from", "query_answered")

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self._translator: Translator | None = None
        self.query_answered = False
        """Telegram takes one answer per tapped button: the first one given is kept."""
        self.came_from: str | None = None
        """`UserData.screen` as it was when this update arrived."""

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
