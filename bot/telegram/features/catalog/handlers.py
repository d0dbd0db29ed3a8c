"""Browsing the catalog: categories, a category's services, search, a service's card.

The first state of the order conversation (`bot.telegram.features.checkout.handlers`): typing words
searches."""

from __future__ import annotations

from telegram import Update

from bot.core.catalog import CatalogIndex
from bot.core.panel import PanelFailure
from bot.telegram import callback as cb
from bot.telegram.context import BotContext
from bot.telegram.features.catalog.screens import service_button
from bot.telegram.i18n import Translator
from bot.telegram.render.keyboards import PAGE_SIZE, Button, clamp_page, markup, menu_button, pager
from bot.telegram.render.services import category_name
from bot.telegram.render.text import escape, failure_text, shorten
from bot.telegram.replies import button_args, expired, show

BROWSE = "browse"
MAX_QUERY = 100
SEARCH_LIMIT = 200


async def catalog_index(update: Update, context: BotContext) -> CatalogIndex | None:
    """The catalog as this user sees it (a customer's prices with the markup), or None after
    telling the user the panel could not give it."""
    try:
        return await context.state.browsing.index(context.actor)
    except PanelFailure as exc:
        t = context.t
        retry = Button(t._("🔄 Retry"), callback_data=cb.CATEGORIES(0))
        await show(update, context, failure_text(t, exc), markup([[retry, menu_button(t)]]))
        return None


async def categories(update: Update, context: BotContext, page: int = 0) -> str | int:
    index = await catalog_index(update, context)
    if index is None:
        return BROWSE
    t = context.t
    page = clamp_page(page, len(index.categories))
    shown = index.categories[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows = [
        [
            Button(
                f"{shorten(category_name(t, c.name), 50)} ({len(c.services)})",
                callback_data=cb.CATEGORY(c.key, 0, 0),
            )
        ]
        for c in shown
    ]
    rows.insert(0, await _shortcuts(update, context))
    rows.append(pager(t, page, len(index.categories), cb.CATEGORIES))
    rows.append([menu_button(t)])
    text = t._("<b>New order</b>\nChoose a category, or type words to search the services.")
    await show(update, context, text, markup(rows))
    return BROWSE


RECENT_SHOWN = 8


async def _shortcuts(update: Update, context: BotContext) -> list[Button]:
    """⭐ Favourites and 🕘 Recent, for a user who has any."""
    t = context.t
    browsing = context.state.browsing
    row = []
    if await browsing.favourites(context.actor):
        row.append(Button(t._("⭐ Favourites"), callback_data=cb.FAVOURITES()))
    if await browsing.has_orders(context.actor):
        row.append(Button(t._("🕘 Recent"), callback_data=cb.RECENT()))
    return row


async def favourites(update: Update, context: BotContext) -> str | int:
    ids = await context.state.browsing.favourites(context.actor)
    title = context.t._("<b>⭐ Favourites</b>\nChoose a service (☆ on a service's card adds it):")
    return await _service_list(update, context, title, ids)


async def recent(update: Update, context: BotContext) -> str | int:
    ids = await context.state.browsing.recent(context.actor, RECENT_SHOWN)
    title = context.t._("<b>🕘 Recent</b>\nThe services you ordered last:")
    return await _service_list(update, context, title, ids)


async def _service_list(
    update: Update, context: BotContext, title: str, ids: list[int]
) -> str | int:
    """A short list of services by id (those the panel still offers)."""
    index = await catalog_index(update, context)
    if index is None:
        return BROWSE
    t = context.t
    currency = context.state.currency.code
    services = [index.by_id[i] for i in ids if i in index.by_id]
    rows = [
        [Button(service_button(t, s, currency), callback_data=cb.SERVICE(s.id))]
        for s in services[: PAGE_SIZE * 2]
    ]
    rows.append([Button(t._("◀️ Categories"), callback_data=cb.CATEGORIES(0)), menu_button(t)])
    text = title if services else t._("Nothing here yet.")
    await show(update, context, text, markup(rows))
    return BROWSE


async def categories_page(update: Update, context: BotContext) -> str | int:
    args = button_args(cb.CATEGORIES, update)
    return await categories(update, context, int(args[0]) if args else 0)


async def category_page(update: Update, context: BotContext) -> str | None:
    args = button_args(cb.CATEGORY, update)
    if args is None:
        await expired(update, context)
        return BROWSE
    return await show_category(update, context, str(args[0]), int(args[1]), bool(args[2]))


async def show_category(
    update: Update, context: BotContext, key: str, page: int, cheapest_first: bool
) -> str:
    index = await catalog_index(update, context)
    if index is None:
        return BROWSE
    category = index.category(key)
    if category is None:
        await expired(update, context)
        return BROWSE
    t = context.t
    services = category.services
    if cheapest_first:
        services = tuple(sorted(services, key=lambda s: s.rate))
    page = clamp_page(page, len(services))
    shown = services[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    currency = context.state.currency.code
    rows = [[Button(service_button(t, s, currency), callback_data=cb.SERVICE(s.id))] for s in shown]
    order = int(cheapest_first)
    rows.append(pager(t, page, len(services), lambda p: cb.CATEGORY(category.key, p, order)))
    if len(services) > 1:
        sort = (
            Button(t._("↕️ The panel's order"), callback_data=cb.CATEGORY(category.key, 0, 0))
            if cheapest_first
            else Button(t._("↕️ Cheapest first"), callback_data=cb.CATEGORY(category.key, 0, 1))
        )
        rows.append([sort])
    rows.append([Button(t._("◀️ Categories"), callback_data=cb.CATEGORIES(0)), menu_button(t)])
    text = t._("<b>{category}</b>\nChoose a service:").format(
        category=escape(category_name(t, category.name))
    )
    await show(update, context, text, markup(rows))
    return BROWSE


async def search(update: Update, context: BotContext) -> str | int:
    message = update.effective_message
    if message is None or not message.text:
        return BROWSE
    context.data.search = message.text.strip()[:MAX_QUERY]
    return await _search_results(update, context, 0)


async def search_found(update: Update, context: BotContext, text: str) -> bool:
    """Words typed at the menu: the matching services, or that none matches, with tips
    (False: nothing shown, when the panel cannot give its catalog now)."""
    try:
        index = await context.state.browsing.index(context.actor)
    except PanelFailure:
        return False
    query = text[:MAX_QUERY]
    if not index.search(query, limit=1)[0]:
        await tell_no_match(update, context, query)
        return True
    context.data.search = query
    await _search_results(update, context, 0)
    return True


def no_match_text(t: Translator, query: str) -> str:
    """Words that find no service: said so, with what does find one."""
    return (
        t._("No service matches “{query}”.").format(query=escape(shorten(query, 60)))
        + "\n\n"
        + t._(
            "Tips: name the platform and what you want, e.g. <i>ig followers</i>, "
            "<i>tt likes</i>, <i>yt views</i>; or send a service id; or choose a category. "
            "/help lists the commands."
        )
    )


async def tell_no_match(update: Update, context: BotContext, text: str) -> None:
    """Typed words at the menu that find no service."""
    t = context.t
    rows = [[Button(t._("🛒 New order"), callback_data=cb.NEW_ORDER()), menu_button(t)]]
    await show(update, context, no_match_text(t, text[:MAX_QUERY]), markup(rows))


async def search_page(update: Update, context: BotContext) -> str | int:
    args = button_args(cb.SEARCH_PAGE, update)
    if args is None or not context.data.search:
        await expired(update, context)
        return BROWSE
    return await _search_results(update, context, int(args[0]))


async def _search_results(update: Update, context: BotContext, page: int) -> str | int:
    index = await catalog_index(update, context)
    if index is None:
        return BROWSE
    t = context.t
    query = context.data.search or ""
    found, total = index.search(query, limit=SEARCH_LIMIT)
    back = [Button(t._("◀️ Categories"), callback_data=cb.CATEGORIES(0)), menu_button(t)]
    if not found:
        await show(update, context, no_match_text(t, query), markup([back]))
        return BROWSE
    page = clamp_page(page, len(found))
    currency = context.state.currency.code
    rows = [
        [Button(service_button(t, s, currency), callback_data=cb.FOUND_SERVICE(s.id, page))]
        for s in found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    rows.append(pager(t, page, len(found), cb.SEARCH_PAGE))
    rows.append(back)
    text = t.n_(
        "{count} service matches “{query}”:", "{count} services match “{query}”:", total
    ).format(count=t.number(total), query=escape(query))
    if total > len(found):
        text += "\n" + t._("Showing the best {n}; add words to narrow it down.").format(
            n=t.number(len(found))
        )
    await show(update, context, text, markup(rows))
    return BROWSE


async def back_to_list(
    update: Update, context: BotContext, service_id: int, back: str = ""
) -> str | int:
    """The list a service was chosen from: the search results (`back`), else the page of
    its category."""
    page = cb.SEARCH_PAGE.parse(back)
    if page is not None and context.data.search:
        return await _search_results(update, context, int(page[0]))
    index = await catalog_index(update, context)
    if index is None:
        return BROWSE
    if service_id not in index.by_id:
        return await categories(update, context)
    category, position = index.place(service_id)
    return await show_category(update, context, category.key, position // PAGE_SIZE, False)


BUTTONS = [
    (cb.CATEGORIES, categories_page),
    (cb.CATEGORY, category_page),
    (cb.SEARCH_PAGE, search_page),
    (cb.FAVOURITES, favourites),
    (cb.RECENT, recent),
]
"""The buttons of browsing, each with its step: they act in every state of the order's
conversation (which is where they are handled)."""
