"""A service's price and category as every screen names them."""

from __future__ import annotations

from bot.core.api import Service
from bot.core.order_types import order_type_of
from bot.telegram.i18n import Translator


def category_name(t: Translator, name: str) -> str:
    return name or t._("Other")


def per_thousand(t: Translator, service: Service, currency: str) -> str:
    if order_type_of(service).package:
        return t._("{price} per package").format(price=t.money(service.rate, currency))
    return t._("{price} per 1000").format(price=t.money(service.rate, currency))
