"""`make serve`: Duban in production on one machine: gunicorn and, beside it, the notifications' task worker.

Refuses to start without SECRET_KEY and HISTORY_KEY in the environment, runs with DEBUG off, applies
migrations, collects the static files (WhiteNoise serves them from STATIC_ROOT), then runs gunicorn with
`config/gunicorn.py` and the task worker (`manage.py db_worker`, when installed; SERVE_WORKER=false
leaves it to another host) until either stops or a SIGTERM/SIGINT comes, which is passed on to both.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
REQUIRED = {
    "SECRET_KEY": "会话与 CSRF 签名用的密钥 (the key that signs sessions and CSRF tokens)",
    "HISTORY_KEY": "历史记录的密钥,至少 32 个字符 (the history's key, 32 characters or more)",
}


def missing_settings(environment):
    return [name for name in REQUIRED if not environment.get(name, "").strip()]


def refuse(missing):
    lines = [f"无法启动:生产环境必须设置 {', '.join(missing)}。 Cannot start: production needs {', '.join(missing)}."]
    lines += [f"  {name}: {REQUIRED[name]}" for name in missing]
    lines.append("请在环境文件中设置后重试(见 README 的“部署”一节)。")
    lines.append("Set them in the environment file and try again (README, Deployment).")
    print("\n".join(lines), file=sys.stderr)
    return 2


def prepare():
    """Migrations, static files and the media folder, with the settings gunicorn will load."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command, get_commands

    call_command("migrate", interactive=False, verbosity=1)
    call_command("collectstatic", interactive=False, verbosity=0)
    if settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage":
        Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)  # so /healthz finds it from the start
    return "db_worker" in get_commands()


def main():
    environment = dict(os.environ, DEBUG="false", DJANGO_SETTINGS_MODULE="config.settings")
    missing = missing_settings(environment)
    if missing:
        return refuse(missing)
    os.environ.update(environment)
    has_worker = prepare()
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(BASE_DIR / "config" / "gunicorn.py"), "config.wsgi"],
            cwd=BASE_DIR,
        )
    ]
    if has_worker and environment.get("SERVE_WORKER", "true").lower() not in {"0", "false", "no", "off"}:
        children.append(subprocess.Popen([sys.executable, "manage.py", "db_worker", "--no-reload"], cwd=BASE_DIR))
    elif not has_worker:
        print("serve: 未安装任务执行器 (db_worker),仅启动网页服务。 No task worker installed: serving pages only.")

    stopping = []

    def stop(signum, frame):
        stopping.append(signum)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # Whichever stops first (a crash, or the signal passed on), the other is stopped too: the service
    # manager then sees one exit, non-zero unless it asked for the stop, and restarts the whole.
    os.wait()
    asked = bool(stopping)
    stop(None, None)
    for child in children:
        child.wait()
    return 0 if asked and children[0].returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
