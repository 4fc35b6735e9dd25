"""Notifications: an outbox row per (what happened, recipient), delivered after commit.

The rows are written in the transaction of what they tell (an action's event, a round's issue, a day's
reminder), so a refused or rolled-back action leaves none, and each is unique on (recipient, key): one
person is told of one event once, however often the action or the delivery is retried. On commit a
`deliver` task is queued for each row (django-tasks with its database backend: a queued task waits in
the database for `manage.py db_worker`, across restarts). Delivering makes the row visible in the app
and sends the e-mail, if the person has an address; a delivery that finds the row already sent does
nothing, and a failed e-mail is tried again later, up to `NOTIFICATION_MAX_ATTEMPTS` times, its
attempts and last error shown in the admin.

Issuing a round tells each person of a reporting unit once per issue (how many assignments their unit
got), not once per assignment.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_tasks import task
from guardian.models import UserObjectPermission

from assignments.models import Assignment, Unit
from permissions import roles

from .models import Event, Notification, Urging

logger = logging.getLogger("duban.notifications")

RETRY_AFTER = datetime.timedelta(minutes=5)  # times the attempt's number: 5, 10, 15… minutes


def _holders(codename, unit_ids):
    """{unit id: [user ids]} of the active holders of `codename` on those units, in one query."""
    holders = {}
    rows = UserObjectPermission.objects.filter(
        permission__codename=codename,
        content_type=ContentType.objects.get_for_model(Unit),
        object_pk__in=[str(pk) for pk in unit_ids],
        user__is_active=True,
    ).values_list("object_pk", "user_id")
    for unit_id, user_id in rows:
        holders.setdefault(int(unit_id), []).append(user_id)
    return holders


def _unit_people(row):
    return _holders(roles.WORK, [row.unit_id]).get(row.unit_id, [])


def _lead_chiefs(row):
    return _holders(roles.REVIEW, [row.lead_section_id]).get(row.lead_section_id, [])


def _urgers(row):
    return list(Urging.objects.filter(assignment_id=row.pk, acknowledged_at=None).values_list("by_id", flat=True))


# Who is told of each action: the reporting unit's people, the lead section's chiefs, or whoever urged.
RECIPIENTS = {
    Event.Action.SUBMIT: _lead_chiefs,
    Event.Action.RETURN: _unit_people,
    Event.Action.ACCEPT: _unit_people,
    Event.Action.EXTEND: _unit_people,
    Event.Action.URGE: _unit_people,
    Event.Action.ACKNOWLEDGE: _urgers,
}


def for_event(act):
    """The outbox rows telling of the event `act` has just written (in its transaction)."""
    recipients = RECIPIENTS.get(act.action)
    if recipients is None:
        return []
    row = act.row
    who = set(recipients(row)) - {act.by.pk}
    if not who:
        return []
    named = Assignment.objects.select_related("round", "item", "unit").get(pk=row.pk)
    label = Event.Action(act.action).label
    lines = [f"{named.label} {named.title}", f"{act.unit.name if act.unit else ''} {act.by.get_full_name() or act.by}"]
    comment = Event.objects.filter(pk=act.event_id).values_list("comment", flat=True).get()
    if act.action == Event.Action.EXTEND:
        lines.append(f"新的报送期限:{row.due:%Y-%m-%d}")
    if comment:
        lines.append(comment)
    rows = [
        Notification(
            recipient_id=user_id,
            key=f"event/{act.event_id}",
            kind=act.action,
            event_id=act.event_id,
            assignment_id=row.pk,
            subject=f"{label}:{named.label}",
            body="\n".join(line.strip() for line in lines if line.strip()),
            link=reverse("assignments:detail", args=[row.pk]),
            created=act.now,
        )
        for user_id in sorted(who)
    ]
    return write(rows)


def for_issue(round_, rows, *, by, now):
    """The outbox rows telling each person of the reporting units of `rows` (assignment rows just issued)
    how many their unit got: one per person, in two queries whatever the count."""
    counts = {}
    for row in rows:
        counts[row["unit_id"]] = counts.get(row["unit_id"], 0) + 1
    names = dict(Unit.objects.filter(pk__in=counts).values_list("pk", "name"))
    link = reverse("assignments:index") + "?" + urlencode({"plan": round_.plan.code, "year": round_.year})
    notices = [
        Notification(
            recipient_id=user_id,
            key=f"issue/{round_.pk}/{now:%Y%m%dT%H%M%S.%f}",
            kind=Event.Action.ISSUE,
            subject=f"{round_.year} 年度督办事项已下达",
            body=f"{round_.plan.code} {round_.year} 年度向{names[unit_id]}下达督办事项 {counts[unit_id]} 项,"
            "请在报送期限前办理。",
            link=link,
            created=now,
        )
        for unit_id, users in _holders(roles.WORK, counts).items()
        for user_id in users
        if by is None or user_id != by.pk
    ]
    return write(notices)


def write(notices):
    """Save the outbox rows and queue their delivery for when the transaction commits."""
    if not notices:
        return []
    saved = Notification.objects.bulk_create(notices)
    ids = [notice.pk for notice in saved]
    transaction.on_commit(lambda: enqueue(ids))
    return saved


def enqueue(ids):
    for pk in ids:
        deliver.enqueue(pk)


@task()
def deliver(notification_id):
    """Deliver one outbox row: show it in the app, and send its e-mail once. Returns what it did."""
    now = timezone.now()
    Notification.objects.filter(pk=notification_id, available_at=None).update(available_at=now)
    with transaction.atomic():
        notice = (
            Notification.objects.select_for_update().select_related("recipient")
            .filter(pk=notification_id, sent_at=None).first()
        )  # fmt: skip
        if notice is None:
            return "already sent"  # a retried delivery: someone sent it before
        address = notice.recipient.email
        if not address:
            Notification.objects.filter(pk=notice.pk).update(sent_at=now)
            return "in-app only"
        attempts = notice.attempts + 1
        try:
            send_mail(notice.subject, _email_body(notice), None, [address])
        except Exception as error:  # noqa: BLE001 - any failure of the mail backend is retried
            failure = f"{type(error).__name__}: {error}"
            Notification.objects.filter(pk=notice.pk).update(attempts=attempts, last_error=failure)
            logger.warning("notification %s: e-mail to %s failed (%s): %s", notice.pk, address, attempts, error)
            if attempts < settings.NOTIFICATION_MAX_ATTEMPTS:
                later = now + RETRY_AFTER * attempts
                transaction.on_commit(lambda: deliver.using(run_after=later).enqueue(notification_id))
            return "failed"
        Notification.objects.filter(pk=notice.pk).update(attempts=attempts, sent_at=now, email=address, last_error="")
    return "sent"


def _email_body(notice):
    site = settings.SITE_URL.rstrip("/") if getattr(settings, "SITE_URL", "") else ""
    return f"{notice.body}\n\n{site}{notice.link}\n" if notice.link else notice.body


def unread_count(user):
    """The badge: notifications delivered to `user` and not yet opened (one query)."""
    return Notification.objects.filter(recipient=user, read_at=None).exclude(available_at=None).count()


def of(user):
    """The notifications delivered to `user`, newest first."""
    return Notification.objects.filter(recipient=user).exclude(available_at=None).order_by("-created", "-pk")
