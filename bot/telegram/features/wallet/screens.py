"""Shop mode screens: a wallet, its entries, a deposit's card for the admins, markup rules,
and the money in /stats."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bot.core.money import Money
from bot.core.notices import DepositCard, DepositDecided
from bot.core.records import Deposit, EntryKind, LedgerEntry, Wallet
from bot.telegram.i18n import N_, Translator
from bot.telegram.render.text import escape, shorten

ENTRY_KINDS = {
    EntryKind.DEPOSIT: N_("top-up"),
    EntryKind.CREDIT: N_("credit"),
    EntryKind.DEBIT_ORDER: N_("order"),
    EntryKind.REFUND: N_("refund"),
    EntryKind.ADJUSTMENT: N_("debit"),
    EntryKind.REFERRAL: N_("referral share"),
    EntryKind.REFERRAL_BACK: N_("referral share taken back"),
    EntryKind.PROMO_BONUS: N_("promo bonus"),
    EntryKind.PROMO_DISCOUNT: N_("promo discount"),
}


def wallet_text(
    t: Translator,
    wallet: Wallet,
    currency: str,
    waiting: Deposit | None = None,
    *,
    customer: bool = False,
) -> str:
    """A wallet's balance, its credit limit, and the top-up waiting for an admin;
    `customer`: as an admin reads it, about the customer (not to them)."""
    lines = [t._("💰 Wallet: <b>{amount}</b>").format(amount=t.money(wallet.balance, currency))]
    if waiting is not None:
        lines.append(
            t._("⏳ Top-up waiting: {amount}, sent {when}").format(
                amount=t.money(waiting.amount, currency), when=_when(t, waiting.created_at)
            )
        )
    if wallet.credit_limit and customer:
        lines.append(
            t._("Credit limit: {limit} (the customer may order down to {floor})").format(
                limit=t.money(wallet.credit_limit, currency),
                floor=t.money(-wallet.credit_limit, currency),
            )
        )
    elif wallet.credit_limit:
        lines.append(
            t._("Credit limit: {limit} (you may order down to {floor})").format(
                limit=t.money(wallet.credit_limit, currency),
                floor=t.money(-wallet.credit_limit, currency),
            )
        )
    return "\n".join(lines)


def entry_line(t: Translator, entry: LedgerEntry, currency: str) -> str:
    when = t.datetime(datetime.fromtimestamp(entry.created_at, tz=UTC))
    sign = "+" if entry.amount > 0 else "−"
    what = t._(ENTRY_KINDS[entry.kind])
    if entry.panel_order_id is not None:
        what += f" #{entry.panel_order_id}"
    if entry.note:
        what += " · " + escape(shorten(entry.note, 60))
    return f"{when} · {sign}{t.money(abs(entry.amount), currency)} · {what}"


def _when(t: Translator, moment: float) -> str:
    return t.datetime(datetime.fromtimestamp(moment, tz=UTC))


def deposit_card(t: Translator, card: DepositCard) -> str:
    """An admin's card of a top-up to decide."""
    lines = [
        t._("💳 <b>Top-up #{id}</b>: {amount}").format(
            id=card.deposit, amount=t.money(card.amount, card.currency)
        ),
        t._("From: {name} (user {user})").format(
            name=escape(shorten(card.name or "—", 60)), user=card.user
        ),
    ]
    if card.proof_kind == "text" and card.proof:
        lines.append(t._("Proof: {text}").format(text=escape(shorten(card.proof, 500))))
    if card.proof_kind == "qris":
        lines.append(
            t._(
                "Paid by QRIS to your own account: approve only if your bank app shows "
                "exactly <b>{amount}</b> received."
            ).format(amount=t.money(card.amount, card.currency))
        )
    if card.promo and card.bonus:
        lines.append(
            t._("🎟 Promo code {code}: a bonus of {bonus} comes with the approval").format(
                code=escape(card.promo), bonus=t.money(card.bonus, card.currency)
            )
        )
    return "\n".join(lines)


def deposit_line(t: Translator, deposit: Deposit, currency: str) -> str:
    """A top-up waiting, in /deposits."""
    proof = t._("photo") if deposit.proof_kind == "photo" else t._("text")
    if deposit.proof_kind == "qris":
        proof = "QRIS"
    return t._("#{id} · {amount} · {name} (user {user}) · {when} · {proof}").format(
        id=deposit.id,
        amount=t.money(deposit.amount, currency),
        name=escape(shorten(deposit.name or "—", 40)),
        user=deposit.user_id,
        when=_when(t, deposit.created_at),
        proof=proof,
    )


def deposit_decided_text(t: Translator, decided: DepositDecided) -> str:
    amount = t.money(decided.amount, decided.currency)
    if decided.approved and decided.bonus:
        return t._(
            "✅ Your top-up of {amount} was credited, with a promo bonus of {bonus}. Wallet: "
            "<b>{balance}</b>"
        ).format(
            amount=amount,
            bonus=t.money(decided.bonus, decided.currency),
            balance=t.money(decided.balance, decided.currency),
        )
    if decided.approved:
        return t._("✅ Your top-up of {amount} was credited. Wallet: <b>{balance}</b>").format(
            amount=amount, balance=t.money(decided.balance, decided.currency)
        )
    return t._(
        "❌ Your top-up of {amount} was not accepted. Ask the operator if you have paid."
    ).format(amount=amount)


def whole_amount_text(t: Translator, currency: str) -> str:
    """An amount with a fraction of the currency's smallest unit (a wallet cannot hold it)."""
    return t._("Amounts in {currency} are whole: send one without a fraction, like 25000.").format(
        currency=escape(currency or "—")
    )


def markup_rules_text(
    t: Translator, rules: dict[tuple[str, str], Decimal], default: Decimal
) -> str:
    lines = [
        t._("<b>Markup</b>"),
        t._("Where no rule applies: {percent}%").format(percent=t.number(default)),
    ]
    for (scope, key), percent in sorted(rules.items()):
        if scope == "all":
            label = t._("All services")
        elif scope == "category":
            label = t._("Category {name}").format(name=escape(shorten(key, 60)))
        else:
            label = t._("Service {id}").format(id=key)
        lines.append(f"{label}: {t.number(percent)}%")
    lines.append(t._("A service's rule wins over its category's, which wins over all."))
    return "\n".join(lines)


MONEY_KINDS = {
    EntryKind.DEPOSIT: N_("Top-ups: {amount}"),
    EntryKind.CREDIT: N_("Credited by admins: {amount}"),
    EntryKind.ADJUSTMENT: N_("Taken by admins: {amount}"),
    EntryKind.DEBIT_ORDER: N_("Sales: {amount}"),
    EntryKind.REFUND: N_("Refunded to wallets: {amount}"),
    EntryKind.PROMO_BONUS: N_("Promo bonuses: {amount}"),
    EntryKind.PROMO_DISCOUNT: N_("Promo discounts: {amount}"),
    EntryKind.REFERRAL: N_("Referral shares: {amount}"),
    EntryKind.REFERRAL_BACK: N_("Referral shares taken back: {amount}"),
}
"""/stats: a labelled line for every kind of ledger entry."""
OPTIONAL_KINDS = frozenset(
    {
        EntryKind.PROMO_BONUS,
        EntryKind.PROMO_DISCOUNT,
        EntryKind.REFERRAL,
        EntryKind.REFERRAL_BACK,
    }
)
"""Shown only in a period that has some (promo codes and referrals are optional)."""


def money_lines(t: Translator, periods: list[tuple[str, Money]], currency: str) -> list[str]:
    """Each period's money, one labelled figure a line."""
    lines = [t._("<b>Money</b>")]
    for label, money in periods:
        lines += ["", f"<b>{label}</b>"]
        lines += [
            "  " + t._(text).format(amount=t.money(money.of(kind), currency))
            for kind, text in MONEY_KINDS.items()
            if kind not in OPTIONAL_KINDS or money.of(kind)
        ]
        lines.append(
            "  " + t._("Panel cost: {amount}").format(amount=t.money(money.panel_cost, currency))
        )
        lines.append(
            "  "
            + t._(
                "Profit (sales − refunds − discounts − referral shares − panel cost): {amount}"
            ).format(amount=t.money(money.profit, currency))
        )
    return lines
