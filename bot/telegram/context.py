"""The typed context handlers receive: the use cases (`Services`), the user's data (with what
their next text means, `Awaiting`), the actor and the translator."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.core.actor import Actor
from bot.core.drafts import OrderDraft
from bot.telegram.i18n import I18n, Translator

if TYPE_CHECKING:
    from bot.core.accounts import Accounts
    from bot.core.actor import Access
    from bot.core.balance import PanelBalance, PanelCurrency
    from bot.core.broadcasts import Broadcasts
    from bot.core.browsing import Browsing
    from bot.core.checkout import Checkout
    from bot.core.limits import UserRateLimit
    from bot.core.mass_order import MassOrders
    from bot.core.my_orders import MyOrders
    from bot.core.order_actions import OrderActions
    from bot.core.promo import Promotions
    from bot.core.referrals import ReferralProgram
    from bot.core.shop import Shop
    from bot.core.stats import Statistics
    from bot.core.support import Support
    from bot.core.topups import TopUps
    from bot.core.unknown_outcome import UnknownOutcomes
    from bot.telegram.jobs.broadcast import BroadcastJob
    from bot.telegram.jobs.mass import MassOrderJob
    from bot.telegram.jobs.payments import PaymentsJob
    from bot.telegram.jobs.tracker import TrackerJob


class Expecting(StrEnum):
    """What the user's next text means (outside the order's questions, which the checkout
    conversation asks)."""

    ORDER_SEARCH = "order_search"
    """After the orders list: an order id, a link or words find an order."""
    MASS_LINES = "mass_lines"
    """After the mass order's prompt: its lines."""
    TOP_UP_AMOUNT = "top_up_amount"
    DEPOSIT_PROOF = "deposit_proof"
    """After a top-up's instructions: the reference of the payment."""
    PANEL_ID = "panel_id"
    """An admin's: the panel's id of an order of unknown outcome (`Awaiting.order`)."""
    SUPPORT_MESSAGE = "support_message"
    """After Support: a message (text or a photo) for a ticket (`Awaiting.order`: the order
    it is about, when opened from its card)."""
    BROADCAST_MESSAGE = "broadcast_message"
    """An admin's, after /broadcast: the message to broadcast."""
    TICKET_REPLY = "ticket_reply"
    """An admin's, after a ticket's Reply button: the answer (`Awaiting.order`: the ticket)."""


@dataclass(frozen=True, slots=True)
class Awaiting:
    """What the user's next text means; kept with their data, read and cleared by the gate at
    every update (so text typed after going elsewhere is never taken for it)."""

    expecting: Expecting
    order: int | None = None
    """The order (or, for `TICKET_REPLY`, the ticket) the text is about."""

    def to_json(self) -> list[Any]:
        return [self.expecting.value, self.order]

    @classmethod
    def from_json(cls, data: Any) -> Awaiting | None:
        """Anything else (an older bot's value, say) awaits nothing."""
        if not (isinstance(data, list) and len(data) == 2 and isinstance(data[0], str)):
            return None
        try:
            expecting = Expecting(data[0])
        except ValueError:
            return None
        order = data[1] if type(data[1]) is int else None
        return cls(expecting, order)


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

    __slots__ = ("awaiting", "cancel", "draft", "retry", "search")

    def __init__(self) -> None:
        self.draft: OrderDraft | None = None
        """The order being filled in."""
        self.search: str | None = None
        """The last search, for paging through its results."""
        self.retry: PendingRetry | None = None
        """A command the panel could not answer, for the Retry button."""
        self.cancel: list[int] | None = None
        """The order ids a /cancel asked about, until the user answers."""
        self.awaiting: Awaiting | None = None
        """What the next text means."""

    def to_json(self) -> dict[str, Any]:
        return {
            "draft": self.draft.model_dump(mode="json") if self.draft else None,
            "search": self.search,
            "retry": [self.retry.command, list(self.retry.ids)] if self.retry else None,
            "cancel": self.cancel,
            "awaiting": self.awaiting.to_json() if self.awaiting else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserData:
        user_data = cls()
        if data.get("draft"):
            user_data.draft = OrderDraft.model_validate(data["draft"])
        user_data.search = data.get("search")
        user_data.retry = PendingRetry.from_json(data.get("retry"))
        user_data.cancel = data.get("cancel")
        user_data.awaiting = Awaiting.from_json(data.get("awaiting"))
        return user_data


@dataclass(frozen=True, slots=True)
class Services:
    """What the skin may ask: the use cases (each built with its collaborators, the whole
    assembled at once in `bot.app`), the translations, and the jobs that send. No store, no
    panel: a handler parses, calls a use case, renders."""

    i18n: I18n
    access: Access
    accounts: Accounts
    browsing: Browsing
    checkout: Checkout
    orders: MyOrders
    actions: OrderActions
    unknown: UnknownOutcomes
    mass: MassOrders
    shop: Shop
    stats: Statistics
    balance: PanelBalance
    currency: PanelCurrency
    limits: UserRateLimit
    tracker: TrackerJob
    mass_job: MassOrderJob
    topups: TopUps
    payments_job: PaymentsJob
    referrals: ReferralProgram
    promos: Promotions
    support: Support
    broadcasts: Broadcasts
    broadcast_job: BroadcastJob


class BotContext(CallbackContext[ExtBot[None], UserData, dict[Any, Any], Services]):
    __slots__ = ("_translator", "actor", "came_from", "query_answered")

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
        self.came_from: Awaiting | None = None
        """What the user's text was awaited as when this update arrived."""
        self.actor = Actor(user_id or 0)
        """Who acts (set by the gate)."""

    @property
    def state(self) -> Services:
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
