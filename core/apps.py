from __future__ import annotations

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Each app declares its job kinds in a `job_kinds` module; importing them fills the registry.
        autodiscover_modules("job_kinds")
        from django.db.models.signals import post_migrate

        from core import checks  # noqa: F401  (registers our system checks)
        from core.demo import DEMO_STEPS
        from core.llm.endpoints import llm_demo_endpoints_ensure
        from core.navigation import nav_register
        from core.roles import ANALYST, COORDINATOR, role_permissions_register, roles_sync

        role_permissions_register(
            COORDINATOR, ["core.view_job", "core.add_job", "core.change_job", "core.view_statistic"]
        )
        role_permissions_register(ANALYST, ["core.view_job", "core.view_statistic"])
        # Runs after auth's create_permissions (core comes after auth in INSTALLED_APPS).
        post_migrate.connect(roles_sync, dispatch_uid="core.roles_sync")
        # First demo step (core is the first app): the offline baselines later steps judge with.
        if llm_demo_endpoints_ensure not in DEMO_STEPS:
            DEMO_STEPS.append(llm_demo_endpoints_ensure)

        nav_register("Home", "home", permission=None, order=0)
        nav_register("Jobs", "job-list", permission="core.view_job", order=90)
        nav_register("API", "api-docs", permission=None, order=95)
