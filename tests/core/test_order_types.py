"""The declarative order types: fields, validation with structured issues, and price."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.core.api import Service, ServiceType
from bot.core.order_types import (
    ORDER_TYPES,
    FieldKind,
    InvalidField,
    Reason,
    check_field,
    check_order,
    fields_to_ask,
    order_type_of,
    price,
    quantity,
)


def service(kind: str = "Default", **extra: object) -> Service:
    data = {
        "service": 1,
        "name": "S",
        "type": kind,
        "category": "C",
        "rate": "0.90",
        "min": "50",
        "max": "10000",
    }
    data.update(extra)
    return Service.model_validate(data)


def issue(kind: str, name: str, raw: str, svc: Service | None = None) -> Reason:
    svc = svc or service(kind)
    with pytest.raises(InvalidField) as raised:
        check_field(order_type_of(svc).field(name), raw, svc, today=date(2026, 11, 24))
    assert raised.value.issue.field == name
    return raised.value.issue.reason


def test_every_type_of_the_reference_has_a_schema() -> None:
    expected = {
        "Default": ["link", "quantity", "runs", "interval"],
        "Package": ["link"],
        "Custom Comments": ["link", "comments"],
        "Custom Comments Package": ["link", "comments"],
        "Mentions": ["link", "quantity", "usernames"],
        "Mentions with Hashtags": ["link", "quantity", "usernames", "hashtags"],
        "Mentions Custom List": ["link", "usernames"],
        "Mentions Hashtag": ["link", "quantity", "hashtag"],
        "Mentions User Followers": ["link", "quantity", "username"],
        "Mentions Media Likers": ["link", "quantity", "media"],
        "Comment Likes": ["link", "quantity", "username"],
        "Poll": ["link", "quantity", "answer_number"],
        "Comment Replies": ["link", "username", "comments"],
        "Invites from Groups": ["link", "quantity", "groups"],
        "Subscriptions": ["username", "min", "max", "posts", "old_posts", "delay", "expiry"],
        "Web Traffic": [
            "link",
            "quantity",
            "runs",
            "interval",
            "country",
            "device",
            "type_of_traffic",
            "google_keyword",
            "referring_url",
        ],
        "SEO": ["link", "quantity", "keywords"],
    }
    for name, fields in expected.items():
        assert [f.name for f in ORDER_TYPES[ServiceType(name)].fields] == fields, name


def test_unknown_type_is_ordered_as_default_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert order_type_of(service("Brand new type")).type is ServiceType.DEFAULT
    assert "unknown type" in caplog.text


def test_quantity_within_the_service_bounds() -> None:
    svc = service()
    spec = ORDER_TYPES[ServiceType.DEFAULT].field("quantity")
    assert check_field(spec, " 1000 ", svc) == "1000"
    assert check_field(spec, "1.000", svc) == "1000"  # grouped the Indonesian way
    assert check_field(spec, "1,000", svc) == "1000"
    assert issue("Default", "quantity", "abc") is Reason.NOT_INTEGER
    assert issue("Default", "quantity", "12.5") is Reason.NOT_INTEGER
    assert issue("Default", "quantity", "-5") is Reason.NOT_INTEGER
    assert issue("Default", "quantity", "9" * 10_000) is Reason.NOT_INTEGER
    with pytest.raises(InvalidField) as raised:
        check_field(spec, "49", svc)
    assert raised.value.issue.reason is Reason.OUT_OF_RANGE
    assert raised.value.issue.bounds == {"min": 50, "max": 10000}
    assert issue("Default", "quantity", "10001") is Reason.OUT_OF_RANGE
    assert issue("Default", "quantity", "   ") is Reason.REQUIRED


def test_links() -> None:
    svc = service()
    spec = ORDER_TYPES[ServiceType.DEFAULT].field("link")
    assert check_field(spec, "https://instagram.com/p/abc?x=1", svc).startswith("https://")
    # A link without its scheme is taken with https:// added; a number is not a link.
    assert (
        check_field(spec, "instagram.com/tokobudi.id", svc) == "https://instagram.com/tokobudi.id"
    )
    assert check_field(spec, "www.tiktok.com/@budi", svc) == "https://www.tiktok.com/@budi"
    assert issue("Default", "link", "1.000") is Reason.NOT_URL
    assert issue("Default", "link", "10.5") is Reason.NOT_URL
    assert issue("Default", "link", "hello there") is Reason.NOT_URL
    assert issue("Default", "link", "https://x.com/" + "a" * 3000) is Reason.TOO_LONG


def test_comments_one_per_line_are_the_quantity() -> None:
    svc = service("Custom Comments", min="2", max="3")
    spec = order_type_of(svc).field("comments")
    assert check_field(spec, "nice\n\n  great  \n", svc) == "nice\ngreat"
    assert issue("Custom Comments", "comments", "only one", svc) is Reason.LINE_COUNT
    assert issue("Custom Comments", "comments", "a\nb\nc\nd", svc) is Reason.LINE_COUNT
    assert issue("Custom Comments", "comments", "x" * 10_000, svc) is Reason.TOO_LONG
    values = {"link": "https://x.test/p", "comments": "a\nb\nc"}
    assert quantity(order_type_of(svc), values) == 3
    assert price(svc, values) == Decimal("0.90") * 3 / 1000


def test_usernames_and_hashtags() -> None:
    svc = service("Mentions with Hashtags")
    order_type = order_type_of(svc)
    assert check_field(order_type.field("usernames"), "@alice\nbob.b", svc) == "alice\nbob.b"
    with pytest.raises(InvalidField) as raised:
        check_field(order_type.field("usernames"), "alice\nnot valid!", svc)
    assert raised.value.issue.reason is Reason.BAD_LINE
    assert raised.value.issue.bounds == {"line": 2}
    assert check_field(order_type.field("hashtags"), "#a\n#b", svc) == "#a\n#b"
    assert (
        check_field(order_type_of(service("Comment Likes")).field("username"), "@x_y", svc) == "x_y"
    )
    assert issue("Comment Likes", "username", "no spaces please") is Reason.BAD_USERNAME


def test_package_price_is_the_rate_and_has_no_quantity() -> None:
    svc = service("Package", rate="45000")
    assert [f.name for f in order_type_of(svc).fields] == ["link"]
    assert price(svc, {"link": "https://x.test"}) == Decimal("45000")
    assert quantity(order_type_of(svc), {"link": "https://x.test"}) is None


def test_default_price_with_and_without_drip_feed() -> None:
    svc = service(rate="0.90")
    assert price(svc, {"link": "l", "quantity": "1000"}) == Decimal("0.90")
    assert price(svc, {"link": "l", "quantity": "1000", "runs": "5", "interval": "10"}) == (
        Decimal("4.50")
    )
    assert (
        check_order(order_type_of(svc), {"link": "l", "quantity": "1", "runs": "2"}, svc)[0].reason
        is Reason.RUNS_WITHOUT_INTERVAL
    )
    partial = {"link": "l", "quantity": "1", "runs": "2"}
    assert check_order(order_type_of(svc), partial, svc, complete=False) == []
    assert issue("Default", "runs", "1") is Reason.OUT_OF_RANGE


def test_drip_feed_fields_are_asked_only_when_chosen() -> None:
    order_type = ORDER_TYPES[ServiceType.DEFAULT]
    assert fields_to_ask(order_type, {}, drip_feed=False) == ["link", "quantity"]
    assert fields_to_ask(order_type, {"link": "l"}, drip_feed=True) == [
        "quantity",
        "runs",
        "interval",
    ]


def test_subscriptions() -> None:
    svc = service("Subscriptions", min="100", max="10000", rate="3000")
    order_type = order_type_of(svc)
    assert order_type.field("delay").kind is FieldKind.CHOICE
    assert check_field(order_type.field("delay"), "30", svc) == "30"
    assert issue("Subscriptions", "delay", "7", svc) is Reason.NOT_CHOICE
    assert (
        check_field(order_type.field("expiry"), "31/12/2026", svc, today=date(2026, 11, 24))
        == "31/12/2026"
    )
    assert (
        check_field(order_type.field("expiry"), "1.1.2027", svc, today=date(2026, 11, 24))
        == "01/01/2027"
    )
    assert issue("Subscriptions", "expiry", "2026-13-45", svc) is Reason.BAD_DATE
    assert issue("Subscriptions", "expiry", "01/01/2020", svc) is Reason.DATE_PAST
    values = {"username": "x", "min": "500", "max": "200", "delay": "0"}
    found = check_order(order_type, values, svc)[0]
    assert (found.field, found.reason) == ("max", Reason.MIN_ABOVE_MAX)
    values = {"username": "x", "min": "100", "max": "200", "posts": "10", "delay": "0"}
    assert check_order(order_type, values, svc) == []
    assert price(svc, values) == Decimal("3000") * 200 * 10 / 1000
    assert "link" not in [f.name for f in order_type.fields]


def test_web_traffic_asks_the_keyword_or_the_referrer_by_traffic_type() -> None:
    order_type = ORDER_TYPES[ServiceType.WEB_TRAFFIC]
    base = {"link": "https://x.test", "quantity": "500", "country": "US", "device": "1"}
    assert fields_to_ask(order_type, {**base, "type_of_traffic": "1"}, drip_feed=False) == [
        "google_keyword"
    ]
    assert fields_to_ask(order_type, {**base, "type_of_traffic": "2"}, drip_feed=False) == [
        "referring_url"
    ]
    assert fields_to_ask(order_type, {**base, "type_of_traffic": "3"}, drip_feed=False) == []


def test_poll_answer_number() -> None:
    assert issue("Poll", "answer_number", "0") is Reason.OUT_OF_RANGE
    svc = service("Poll")
    assert check_field(order_type_of(svc).field("answer_number"), "2", svc) == "2"


def test_drip_feed_totals_and_durations_are_checked_on_the_answer_that_completes_them() -> None:
    svc = service(min="10", max="5000")
    order_type = order_type_of(svc)
    values = {"link": "l", "quantity": "1000", "runs": "6"}
    issue = check_order(order_type, values, svc, complete=False)[0]
    assert (issue.field, issue.reason, issue.bounds) == (
        "runs",
        Reason.TOTAL_ABOVE_MAX,
        {"max": 5000, "runs": 5},
    )
    assert check_order(order_type, {**values, "runs": "5"}, svc, complete=False) == []
    long = {"link": "l", "quantity": "10", "runs": "100", "interval": "1400"}  # 96 days
    issue = check_order(order_type, long, svc)[0]
    assert (issue.field, issue.reason) == ("interval", Reason.DRIP_TOO_LONG)
    assert check_order(order_type, {**long, "interval": "1300"}, svc) == []  # 89 days


def test_hashtags_are_checked_as_strictly_as_usernames() -> None:
    kind = "Mentions with Hashtags"
    spec = order_type_of(service(kind)).field("hashtags")
    assert (
        check_field(spec, "#travel\nfood\n#東京_2026", service(kind)) == "#travel\nfood\n#東京_2026"
    )
    for bad in ("two words", "#trip!", "#", "##x", "#" + "a" * 101, "#kopi☕"):
        assert issue(kind, "hashtags", f"#ok\n{bad}") is Reason.BAD_HASHTAG, bad
    assert issue("Mentions Hashtag", "hashtag", "not one") is Reason.BAD_HASHTAG
    single = order_type_of(service("Mentions Hashtag")).field("hashtag")
    assert check_field(single, " #summer ", service("Mentions Hashtag")) == "#summer"
