"""Values as people enter them: indicator values, parsed, checked against the indicator's kind and kept
exact; and what counts as an empty text.

An indicator value arrives as text (the page's form) or as a JSON number or string (the API); it
becomes a `Decimal` with at most two places, or `Refused` says, in Chinese, why not.
"""

import re
from decimal import Decimal, InvalidOperation

from assignments.models import Indicator

# Characters that show nothing: zero-width spaces and joiners, the word joiner, the byte-order mark,
# and the bidirectional controls. A text made only of these and blanks says nothing.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = re.compile(f"[{INVISIBLE}\\s]+")


def is_blank(text):
    """Whether `text` is None or made only of blanks and invisible characters."""
    return text is None or not _INVISIBLE.sub("", text)


class Refused(ValueError):
    """A value or set of values that cannot be taken; the message is safe to show."""


def indicator_values(asks, indicators):
    """[(ask, Decimal)] for what a round asks (`WorkItem.asks`): one value per indicator, keyed by the
    indicator's id; every indicator needs a value and no other id is taken."""
    if not isinstance(indicators, dict):
        raise Refused("指标填报值格式有误")
    asked = {str(ask.indicator.pk): ask for ask in asks}
    unknown = [key for key in indicators if str(key) not in asked]
    if unknown:
        raise Refused(f"本事项没有编号为 {'、'.join(map(str, unknown))} 的指标")
    given = {str(key): value for key, value in indicators.items()}
    missing = [ask.indicator.subject for key, ask in asked.items() if key not in given]
    if missing:
        raise Refused(f"请填写指标:{'、'.join(missing)}")
    return [(ask, parse(ask.indicator, given[key])) for key, ask in asked.items()]


LIMIT = Decimal("1e12")  # the column holds 14 digits, two of them after the point


def parse(indicator, raw):
    """The value of `raw` for `indicator` as a Decimal, or `Refused` naming the indicator and the reason:
    a percentage is at most 100, a count a whole number, and any value has at most two decimals (an
    average such as 8.6 organisations per community, a quantity such as 12.5 m²)."""
    name = indicator.subject
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise Refused(f"“{name}”应填写数值")
    text = str(raw).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Refused(f"“{name}”应填写数值,而非“{text[:32]}”") from None
    if value.is_nan():
        raise Refused(f"“{name}”应填写数值,而非“{text[:32]}”")
    if value.is_infinite() or abs(value) >= LIMIT:
        raise Refused(f"“{name}”数值过大(应小于 1 万亿)")
    if value < 0:
        raise Refused(f"“{name}”不能为负数")
    if indicator.kind == Indicator.Kind.PERCENT and value > 100:
        raise Refused(f"“{name}”是百分比,不能超过 100")
    if indicator.kind == Indicator.Kind.COUNT and value != value.to_integral_value():
        raise Refused(f"“{name}”是个数,应填写整数")
    if value.as_tuple().exponent < -2:
        raise Refused(f"“{name}”最多保留两位小数")
    return value
