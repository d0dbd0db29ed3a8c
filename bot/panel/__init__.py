"""The SMM panel API v2: client, models, order types and a sandbox panel. No Telegram here."""

from bot.panel.client import OrderRequest, PanelClient
from bot.panel.errors import (
    BadKey,
    BadLink,
    BadQuantity,
    DuplicateActiveOrder,
    InsufficientFunds,
    NotFound,
    OrderOutcomeUnknown,
    OutcomeUnknown,
    PanelBusy,
    PanelError,
    PanelFailure,
    PanelUnavailable,
    UnknownService,
)
from bot.panel.models import Balance, OrderState, OrderStatus, RefillState, RefillStatus, Service

__all__ = [
    "BadKey",
    "BadLink",
    "BadQuantity",
    "Balance",
    "DuplicateActiveOrder",
    "InsufficientFunds",
    "NotFound",
    "OrderOutcomeUnknown",
    "OrderRequest",
    "OrderState",
    "OrderStatus",
    "OutcomeUnknown",
    "PanelBusy",
    "PanelClient",
    "PanelError",
    "PanelFailure",
    "PanelUnavailable",
    "RefillState",
    "RefillStatus",
    "Service",
    "UnknownService",
]
