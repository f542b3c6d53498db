from __future__ import annotations

from django.apps import AppConfig


class PersonasConfig(AppConfig):
    name = "personas"
    verbose_name = "Personas"

    def ready(self) -> None:
        from core.demo import DEMO_STEPS
        from core.navigation import nav_register
        from core.roles import ANALYST, COORDINATOR, role_permissions_register
        from personas.demo import demo_personas_ensure

        # The one declaration of these roles' permissions: core's post_migrate receiver (roles_sync) applies it after
        # every migrate and every test-database flush; the 0003_roles migrations are empty placeholders now.
        view = ["personas.view_persona", "personas.view_censusdataset"]
        role_permissions_register(COORDINATOR, [*view, "personas.add_persona"])
        role_permissions_register(ANALYST, view)

        nav_register("Personas", "persona-list", permission="personas.view_persona", order=20)
        nav_register("Census comparison", "census-comparison", permission="personas.view_censusdataset", order=21)
        if demo_personas_ensure not in DEMO_STEPS:
            DEMO_STEPS.append(demo_personas_ensure)
