"""Due-soon and overdue reminders: once a day, each person of a reporting unit is told, in one notice,
which of their unit's open assignments are late (red) or due soon (yellow).

One notice per person per day (key "reminder/<day>"), through the outbox like every notification: a
second run on the same day finds every notice written and writes none.
"""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from assignments.models import Assignment
from permissions import roles

from .deadlines import Light, with_lights
from .models import Notification
from .notifications import _holders, write

SHOWN = 20  # assignments named in one notice; the rest are counted


def send_reminders(on):
    """Write (and queue for delivery) the reminders of the day `on`; returns how many were written."""
    due = (
        with_lights(Assignment.objects.all(), on=on)
        .filter(light__in=[Light.RED, Light.YELLOW])
        .select_related("round", "item", "unit")
        .order_by("due", "round__year", "item__measure__number", "item__position")
    )
    by_unit = {}
    for assignment in due:
        by_unit.setdefault(assignment.unit_id, []).append(assignment)
    if not by_unit:
        return 0
    key = f"reminder/{on.isoformat()}"
    now = timezone.now()
    with transaction.atomic():
        told = set(Notification.objects.filter(key=key).values_list("recipient_id", flat=True))
        notices = []
        for unit_id, users in _holders(roles.WORK, by_unit).items():
            rows = by_unit[unit_id]
            late = sum(1 for row in rows if row.light == Light.RED)
            lines = [f"{row.label}:{'已逾期' if row.light == Light.RED else '临近期限'},报送期限 {row.due:%Y-%m-%d}"
                     for row in rows[:SHOWN]]  # fmt: skip
            if len(rows) > SHOWN:
                lines.append(f"……另有 {len(rows) - SHOWN} 项")
            link = reverse("assignments:index") + "?" + urlencode({"todo": "on"})
            notices += [
                Notification(
                    recipient_id=user_id,
                    key=key,
                    kind="reminder",
                    subject=f"督办提醒({on:%Y-%m-%d}):{late} 项已逾期,{len(rows) - late} 项临近期限",
                    body="\n".join(lines),
                    link=link,
                    created=now,
                )
                for user_id in users
                if user_id not in told
            ]
        write(notices)
    return len(notices)
