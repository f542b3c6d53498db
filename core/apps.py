from __future__ import annotations

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Each app declares its job kinds in a `job_kinds` module; importing them fills the registry.
        autodiscover_modules("job_kinds")
        from core.navigation import nav_register

        nav_register("Home", "home", permission=None, order=0)
        nav_register("Jobs", "job-list", permission="core.view_job", order=90)
        nav_register("API", "api-docs", permission=None, order=95)
