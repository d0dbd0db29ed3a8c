"""Browsing the catalog: categories, a category's services, search, a service's card.

The first state of the order conversation (`bot.telegram.features.checkout.handlers`): typing words
searches."""

from __future__ import annotations

from telegram import Update

from bot.core.catalog import CatalogIndex
from bot.core.panel import PanelFailure
from bot.telegram import callback as cb
from bot.telegram.context import BotContext
from bot.telegram.features.catalog.screens import service_button, service_card
from bot.telegram.render.keyboards import PAGE_SIZE, Button, clamp_page, markup, menu_button, pager
from bot.telegram.render.services import category_name
from bot.telegram.render.text import escape, failure_text, shorten
from bot.telegram.replies import answer_query, button_args, expired, show

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


async def star(update: Update, context: BotContext) -> str | int:
    """Star or unstar the service of the card, and show the card again."""
    args = button_args(cb.STAR, update)
    if args is None:
        await expired(update, context)
        return BROWSE
    starred = await context.state.browsing.toggle_favourite(context.actor, int(args[0]))
    t = context.t
    await answer_query(
        update, context, t._("Added to favourites.") if starred else t._("Removed from favourites.")
    )
    return await show_service(update, context, int(args[0]))


async def start_order(update: Update, context: BotContext) -> str | int:
    """/order, /order <service id>, and the New order button."""
    context.data.draft = None
    if context.args:
        token = context.args[0].lstrip("#")
        if not token.isdigit():
            await show(update, context, context.t._("Usage: /order or /order &lt;service id&gt;"))
            return await categories(update, context)
        return await show_service(update, context, int(token))
    return await categories(update, context)


async def categories_page(update: Update, context: BotContext) -> str | int:
    args = button_args(cb.CATEGORIES, update)
    return await categories(update, context, int(args[0]) if args else 0)


async def category_page(update: Update, context: BotContext) -> str | None:
    args = button_args(cb.CATEGORY, update)
    index = await catalog_index(update, context)
    if index is None:
        return BROWSE
    category = index.category(str(args[0])) if args else None
    if args is None or category is None:
        await expired(update, context)
        return BROWSE
    t = context.t
    cheapest_first = bool(args[2])
    services = category.services
    if cheapest_first:
        services = tuple(sorted(services, key=lambda s: s.rate))
    page = clamp_page(int(args[1]), len(services))
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
    """Words typed at the menu: the matching services, if any (False: nothing shown, also
    when the panel cannot give its catalog now)."""
    try:
        index = await context.state.browsing.index(context.actor)
    except PanelFailure:
        return False
    query = text[:MAX_QUERY]
    if not index.search(query, limit=1)[0]:
        return False
    context.data.search = query
    await _search_results(update, context, 0)
    return True


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
        text = t._("Nothing matches “{query}”. Try other words, or choose a category.").format(
            query=escape(query)
        )
        await show(update, context, text, markup([back]))
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


async def service_page(update: Update, context: BotContext) -> str | int:
    """A service from a category (Back: to its page there) or from the search results (Back:
    to those results)."""
    found = button_args(cb.FOUND_SERVICE, update)
    args = found or button_args(cb.SERVICE, update)
    index = await catalog_index(update, context)
    if index is None:
        return BROWSE
    if args is None or int(args[0]) not in index.by_id:
        await expired(update, context)
        return BROWSE
    back = cb.SEARCH_PAGE(int(found[1])) if found and context.data.search else None
    return await show_service(update, context, int(args[0]), index, back=back)


async def show_service(
    update: Update,
    context: BotContext,
    service_id: int,
    index: CatalogIndex | None = None,
    *,
    back: str | None = None,
) -> str | int:
    """A service's card, with Order and Back (to `back`, else to its category's page)."""
    index = index or await catalog_index(update, context)
    if index is None:
        return BROWSE
    t = context.t
    service = index.by_id.get(service_id)
    if service is None:
        text = t._("There is no service with id {id}. Choose one from the list.").format(
            id=service_id
        )
        await show(update, context, text)
        return await categories(update, context)
    category, position = index.place(service.id)
    starred = service.id in await context.state.browsing.favourites(context.actor)
    rows = [
        [Button(t._("🛒 Order this service"), callback_data=cb.START_ORDER(service.id))],
        [
            Button(
                t._("★ In favourites") if starred else t._("☆ Add to favourites"),
                callback_data=cb.STAR(service.id),
            )
        ],
        [
            Button(
                t._("◀️ Back"),
                callback_data=back or cb.CATEGORY(category.key, position // PAGE_SIZE, 0),
            ),
            menu_button(t),
        ],
    ]
    text = service_card(t, service, context.state.currency.code, service.category)
    await show(update, context, text, markup(rows))
    return BROWSE


BUTTONS = [
    (cb.CATEGORIES, categories_page),
    (cb.CATEGORY, category_page),
    (cb.SEARCH_PAGE, search_page),
    (cb.SERVICE, service_page),
    (cb.FOUND_SERVICE, service_page),
    (cb.FAVOURITES, favourites),
    (cb.RECENT, recent),
    (cb.STAR, star),
]
"""The buttons of browsing, each with its step: they act in every state of the order's
conversation (which is where they are handled)."""
