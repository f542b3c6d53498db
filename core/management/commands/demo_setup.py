from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core.demo import demo_accounts_ensure, demo_data_ensure


class Command(BaseCommand):
    help = "Create the demo accounts (passwords printed once, on creation) and the demo data."

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = demo_accounts_ensure()
        new = [a for a in accounts if a.password]
        if new:
            self.stdout.write("Demo accounts (passwords are shown this once; keep them):")
            for account in new:
                self.stdout.write(f"  demo-account {account.role:<13} {account.username} / {account.password}")
        existing = [a.username for a in accounts if not a.password]
        if existing:
            self.stdout.write(
                f"Demo accounts already exist: {', '.join(existing)} (passwords were printed when they were "
                "created; reset one with `manage.py changepassword <name>`)."
            )
        for line in demo_data_ensure():
            self.stdout.write(line)
