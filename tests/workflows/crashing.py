"""Run one operation in a process of its own and stop inside its transaction, for a test to kill it there.

    python -m tests.workflows.crashing submit <assignment id> <username>
    python -m tests.workflows.crashing open_round <year>
    python -m tests.workflows.crashing attach <assignment id> <username>

The database and media come from the environment (DATABASE_URL, MEDIA_ROOT, HISTORY_KEY). Right after
the statement that writes the operation's event (for an upload: its attachment row, its file stored
already), before anything commits, the process prints PAUSED and sleeps until it is killed.
"""

import os
import sys
import time

import django

PAUSE_AFTER = {"submit": "workflows_event", "open_round": "workflows_event", "attach": "assignments_attachment"}


def main(operation, *args):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from assignments.models import Assignment, Indicator
    from workflows import actions, rounds

    def pause(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith("INSERT") and f'"{PAUSE_AFTER[operation]}"' in sql:
            print("PAUSED", flush=True)
            time.sleep(600)
        return result

    if operation == "open_round":
        with connection.execute_wrapper(pause):
            rounds.open_round(int(args[0]))
        return
    assignment = Assignment.objects.get(pk=int(args[0]))
    user = get_user_model().objects.get(username=args[1])
    with connection.execute_wrapper(pause):
        if operation == "submit":
            asked = Indicator.objects.filter(item=assignment.item).values_list("pk", flat=True)
            actions.submit(
                assignment, by=user, version=assignment.version, narrative="断电前的报送",
                indicators={str(pk): "50" for pk in asked},
            )  # fmt: skip
        elif operation == "attach":
            actions.attach(assignment, by=user, upload=SimpleUploadedFile("半截.pdf", b"%PDF-1.7\n%%EOF killed upload"))
    print("FINISHED", flush=True)  # the test fails if the pause was never reached


if __name__ == "__main__":
    main(*sys.argv[1:])
