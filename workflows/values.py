"""Values as people enter them: indicator values, parsed, checked against the indicator's kind and kept
exact; and what counts as an empty text.

An indicator value arrives as text (the page's form) or as a JSON number or string (the API); it
becomes a `Decimal` with at most two places, or `Refused` says, in Chinese, why not.
"""

import re
from decimal import Decimal, InvalidOperation

from assignments.models import Target

# Characters that show nothing: zero-width spaces and joiners, the word joiner, the byte-order mark,
# and the bidirectional controls. A text made only of these and blanks says nothing.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = re.compile(f"[{INVISIBLE}\\s]+")


def is_blank(text):
    """Whether `text` is None or made only of blanks and invisible characters."""
    return text is None or not _INVISIBLE.sub("", text)


class Refused(ValueError):
    """A value or set of values that cannot be taken; the message is safe to show."""


def indicator_values(item_id, indicators):
    """[(target, Decimal)] for the item's targets; every target needs a value, no other id is taken."""
    if not isinstance(indicators, dict):
        raise Refused("指标填报值格式有误")
    targets = {str(target.pk): target for target in Target.objects.filter(item_id=item_id)}
    unknown = [key for key in indicators if str(key) not in targets]
    if unknown:
        raise Refused(f"本事项没有编号为 {'、'.join(map(str, unknown))} 的指标")
    given = {str(key): value for key, value in indicators.items()}
    missing = [target.label for key, target in targets.items() if key not in given]
    if missing:
        raise Refused(f"请填写指标:{'、'.join(missing)}")
    return [(target, parse(target, given[key])) for key, target in targets.items()]


LIMIT = Decimal("1e12")  # the column holds 14 digits, two of them after the point


def parse(target, raw):
    """The value of `raw` for `target` as a Decimal, or `Refused` naming the indicator and the reason."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise Refused(f"“{target.label}”应填写数值")
    text = str(raw).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Refused(f"“{target.label}”应填写数值,而非“{text[:32]}”") from None
    if value.is_nan():
        raise Refused(f"“{target.label}”应填写数值,而非“{text[:32]}”")
    if value.is_infinite() or abs(value) >= LIMIT:
        raise Refused(f"“{target.label}”数值过大(应小于 1 万亿)")
    if value < 0:
        raise Refused(f"“{target.label}”不能为负数")
    if target.kind == Target.Kind.PERCENT and value > 100:
        raise Refused(f"“{target.label}”是百分比,不能超过 100")
    if target.kind == Target.Kind.COUNT and value != value.to_integral_value():
        raise Refused(f"“{target.label}”应填写整数")
    if value.as_tuple().exponent < -2:
        raise Refused(f"“{target.label}”最多保留两位小数")
    return value
